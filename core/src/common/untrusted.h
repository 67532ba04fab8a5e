#pragma once
// Text and JSON that come from files a stranger may have written (checkpoints, registries, label files, configs).
// Such text is shown in error messages and terminals, so it is escaped first; such JSON is parsed with a bound on
// its nesting, because code that walks values (nlohmann's dump(), destructors in older releases) recurses on depth.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "efficientnet/printable.h"

namespace efficientnet {

// Parses JSON from an untrusted file. Nesting deeper than kMaxJsonDepth is refused while parsing, before a value
// that deep exists (nlohmann's parser itself is iterative). On failure returns nullopt and sets `problem` to a
// sentence such as "is not valid JSON (syntax error at byte 12: ...)" or "nests deeper than 64 levels".
std::optional<nlohmann::json> parseUntrustedJson(std::string_view text, std::string& problem);

// A short description of a JSON value for messages: scalars as they are (escaped, cut), containers by their kind and
// size ("a list of 3 values"); never a dump of attacker input.
std::string describeJson(const nlohmann::json& value);

} // namespace efficientnet
