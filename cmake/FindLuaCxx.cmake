# FindLuaCxx: Lua 5.1 built as C++ (Debian's liblua5.1-0-dev ships it as liblua5.1-c++),
# so that a Lua error unwinds C++ frames (destructors run) instead of longjmp-ing over
# them. Defines LuaCxx_FOUND and the imported target LuaCxx::lua.
find_path(LuaCxx_INCLUDE_DIR lua.hpp PATH_SUFFIXES lua5.1)
find_library(LuaCxx_LIBRARY NAMES lua5.1-c++)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LuaCxx REQUIRED_VARS LuaCxx_LIBRARY LuaCxx_INCLUDE_DIR)
if(LuaCxx_FOUND AND NOT TARGET LuaCxx::lua)
  add_library(LuaCxx::lua UNKNOWN IMPORTED)
  set_target_properties(LuaCxx::lua PROPERTIES
    IMPORTED_LOCATION "${LuaCxx_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LuaCxx_INCLUDE_DIR}")
endif()
mark_as_advanced(LuaCxx_INCLUDE_DIR LuaCxx_LIBRARY)
