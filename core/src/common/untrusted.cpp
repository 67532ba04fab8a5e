#include "common/untrusted.h"

#include <cstdint>
#include <cstdio>
#include <iterator>

#include "efficientnet/limits.h"

namespace efficientnet {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::size_t kDescribedScalarBytes = 40;

std::string hexByte(unsigned char byte)
{
    return std::string("\\x") + kHexDigits[byte >> 4] + kHexDigits[byte & 0xf];
}

std::string codePointEscape(char32_t code)
{
    std::string digits;
    for (; code; code >>= 4)
        digits.insert(digits.begin(), kHexDigits[code & 0xf]);
    return "\\u{" + digits + "}";
}

// Characters that reorder or hide text in a terminal or editor ("Trojan Source", CVE-2021-42574), and C1 controls.
bool isInvisibleControl(char32_t code)
{
    return (code >= 0x80 && code <= 0x9f) || code == 0x061c || code == 0x200e || code == 0x200f ||
           (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlongs, no surrogates, <= U+10FFFF), or 0.
std::size_t utf8Length(std::string_view text, std::size_t i, char32_t& code)
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    char32_t minimum = 0;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2, code = lead & 0x1f, minimum = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3, code = lead & 0x0f, minimum = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4, code = lead & 0x07, minimum = 0x10000;
    } else {
        return 0;
    }
    if (text.size() - i < length)
        return 0;
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(k) & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (byte(k) & 0x3f);
    }
    if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return 0;
    return length;
}

std::string count(std::size_t number, const char* noun)
{
    return std::to_string(number) + " " + noun + (number == 1 ? "" : "s");
}

} // namespace

std::string printable(std::string_view text, std::size_t maxBytes)
{
    std::string shown;
    std::size_t i = 0;
    while (i < text.size() && i < maxBytes) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x80) {
            if (byte == '\n')
                shown += "\\n";
            else if (byte == '\t')
                shown += "\\t";
            else if (byte == '\r')
                shown += "\\r";
            else if (byte < 0x20 || byte == 0x7f)
                shown += hexByte(byte);
            else
                shown += static_cast<char>(byte);
            ++i;
            continue;
        }
        char32_t code = 0;
        const std::size_t length = utf8Length(text, i, code);
        if (length == 0) {
            shown += hexByte(byte);
            ++i;
        } else {
            shown += isInvisibleControl(code) ? codePointEscape(code) : std::string(text.substr(i, length));
            i += length;
        }
    }
    if (i < text.size())
        shown += "... (" + std::to_string(text.size() - i) + " more bytes)";
    return shown;
}

std::string describeBytes(unsigned long long bytes)
{
    constexpr double kKilo = 1000.0;
    if (bytes < 1000)
        return std::to_string(bytes) + " bytes";
    const char* units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
    double value = static_cast<double>(bytes) / kKilo;
    std::size_t unit = 0;
    while (value >= kKilo && unit + 1 < std::size(units)) {
        value /= kKilo;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, value < 10 ? "%.1f %s" : "%.0f %s", value, units[unit]);
    return text;
}

std::optional<nlohmann::json> parseUntrustedJson(std::string_view text, std::string& problem)
{
    struct TooDeep {};
    // The callback sees every value as the parser opens it; throwing stops the parse before anything deeper exists.
    // depth counts the containers around the one being opened: the outermost opens at 0.
    const auto bounded = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
        const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                           event == nlohmann::json::parse_event_t::array_start;
        if (opens && depth >= kMaxJsonDepth)
            throw TooDeep{};
        return true;
    };
    try {
        return nlohmann::json::parse(text.begin(), text.end(), bounded);
    } catch (const TooDeep&) {
        problem = "nests lists or objects deeper than " + std::to_string(kMaxJsonDepth) +
                  " levels; no file this program reads needs that";
    } catch (const nlohmann::json::exception& error) {
        problem = "is not valid JSON (" + printable(error.what(), 200) + ")";
    }
    return std::nullopt;
}

std::string describeJson(const nlohmann::json& value)
{
    switch (value.type()) {
    case nlohmann::json::value_t::array: return "a list of " + count(value.size(), "value");
    case nlohmann::json::value_t::object: return "an object of " + count(value.size(), "key");
    case nlohmann::json::value_t::string: return "\"" + printable(value.get_ref<const std::string&>(),
                                                                  kDescribedScalarBytes) + "\"";
    default: return printable(value.dump(), kDescribedScalarBytes);   // a number, bool or null: no nesting
    }
}

} // namespace efficientnet
