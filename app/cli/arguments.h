#pragma once
// A small command-line parser: `tool COMMAND [--option VALUE] [--flag] [PATH...]`. Written here rather than taken
// from a library because the console tool must also build on machines that have only LibTorch (the GPU machine).
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "efficientnet/variants.h"

namespace efficientnet::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// --source: empty or "auto" mean "tell from the checkpoint's keys".
std::optional<WeightSource> parseSourceOption(const std::string& text);

class Arguments {
public:
    // valueOptions take a value (--topk 5 or --topk=5); flags take none. Anything else starting with -- is an error.
    Arguments(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
              const std::set<std::string>& flags);

    bool flag(const std::string& name) const { return m_flags.count(name) > 0; }
    bool has(const std::string& name) const { return m_values.count(name) > 0; }
    std::string value(const std::string& name, const std::string& fallback = {}) const;
    int intValue(const std::string& name, int fallback, int min, int max) const;
    const std::vector<std::string>& positional() const { return m_positional; }

private:
    std::map<std::string, std::string> m_values;
    std::set<std::string> m_flags;
    std::vector<std::string> m_positional;
};

} // namespace efficientnet::cli
