#pragma once

#include <string_view>

namespace otkv::store {

/// Matches `text` against a Redis-style glob `pattern`: `*`, `?`, `[abc]`, `[^a]`,
/// `[a-z]` and `\` to escape the next character.
bool glob_match(std::string_view pattern, std::string_view text, bool nocase = false);

} // namespace otkv::store
