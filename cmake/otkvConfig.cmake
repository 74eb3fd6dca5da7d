# Package configuration for find_package(otkv): provides the target otkv::otkv (the
# embedding API, include <otkv/otkv.hpp>) and finds what it links against.
include(CMakeFindDependencyMacro)
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")
find_dependency(Threads)
find_dependency(CAF 0.17)
find_dependency(spdlog)
find_dependency(nlohmann_json)
find_dependency(LuaCxx)
find_dependency(OpenSSL COMPONENTS Crypto)
include("${CMAKE_CURRENT_LIST_DIR}/otkvTargets.cmake")
