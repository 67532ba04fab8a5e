#include "arguments.h"

namespace efficientnet::cli {

std::optional<WeightSource> parseSourceOption(const std::string& text)
{
    if (text.empty() || text == "auto")
        return std::nullopt;
    for (auto source : {WeightSource::Torchvision, WeightSource::Timm, WeightSource::Lukemelas})
        if (text == toString(source))
            return source;
    throw UsageError("--source must be auto, torchvision, timm or lukemelas, not '" + text + "'");
}

Arguments::Arguments(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
                     const std::set<std::string>& flags)
{
    bool onlyPositional = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (onlyPositional || arg.rfind("--", 0) != 0 || arg == "-") {
            m_positional.push_back(arg);
            continue;
        }
        if (arg == "--") {
            onlyPositional = true;
            continue;
        }
        const auto eq = arg.find('=');
        const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        if (flags.count(name)) {
            if (eq != std::string::npos)
                throw UsageError("--" + name + " takes no value");
            m_flags.insert(name);
        } else if (valueOptions.count(name)) {
            if (eq != std::string::npos)
                m_values[name] = arg.substr(eq + 1);
            else if (i + 1 < args.size())
                m_values[name] = args[++i];
            else
                throw UsageError("--" + name + " needs a value");
        } else {
            throw UsageError("unknown option --" + name);
        }
    }
}

std::string Arguments::value(const std::string& name, const std::string& fallback) const
{
    const auto it = m_values.find(name);
    return it == m_values.end() ? fallback : it->second;
}

int Arguments::intValue(const std::string& name, int fallback, int min, int max) const
{
    if (!has(name))
        return fallback;
    const std::string text = value(name);
    size_t used = 0;
    int parsed = 0;
    try {
        parsed = std::stoi(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || text.empty() || parsed < min || parsed > max)
        throw UsageError("--" + name + " must be a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", not '" + text + "'");
    return parsed;
}

} // namespace efficientnet::cli
