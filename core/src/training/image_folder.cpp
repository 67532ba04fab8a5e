#include "training/image_folder.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "efficientnet/errors.h"
#include "efficientnet/imaging.h"
#include "efficientnet/platform.h"

namespace efficientnet::training {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> classFolders(const std::string& root)
{
    std::error_code error;
    const fs::path folder = platform::pathFromUtf8(root);
    const std::string expected = " (expected a folder per class: " + root + "/<class>/<images>)";
    // A mistyped name is the usual case: "not a folder" sent people looking for a file that was never there.
    const fs::file_status status = fs::status(folder, error);
    if (status.type() == fs::file_type::not_found)
        throw ConfigError(root + ": does not exist" + expected);
    if (!fs::is_directory(status))
        throw ConfigError(root + (error ? ": cannot be read (" + error.message() + ")" : ": not a folder" + expected));
    std::vector<std::string> names;
    for (fs::directory_iterator it(folder, fs::directory_options::skip_permission_denied, error), end;
         !error && it != end; it.increment(error))
        if (it->is_directory(error))
            names.push_back(platform::utf8FromPath(it->path().filename()));
    if (error)
        throw ConfigError(root + ": cannot list the folder (" + error.message() + ")");
    std::sort(names.begin(), names.end());
    return names;
}

void addImages(const std::string& root, const std::string& name, int label, std::vector<LabelledFile>& files)
{
    std::error_code error;
    const fs::path folder = platform::pathFromUtf8(root) / platform::pathFromUtf8(name);
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, error), end;
         !error && it != end; it.increment(error)) {
        const std::string path = platform::utf8FromPath(it->path());
        if (it->is_regular_file(error) && hasImageExtension(path))
            found.push_back(path);
    }
    if (error)
        throw ConfigError(platform::utf8FromPath(folder) + ": cannot list the folder (" + error.message() + ")");
    std::sort(found.begin(), found.end());
    for (auto& path : found)
        files.push_back({std::move(path), label});
}

} // namespace

ImageFolder listImageFolder(const std::string& root)
{
    ImageFolder folder;
    folder.classes = classFolders(root);
    if (folder.classes.empty())
        throw ConfigError(root + ": has no class folders (expected " + root + "/<class>/<images>, one folder per class)");
    for (std::size_t label = 0; label < folder.classes.size(); ++label)
        addImages(root, folder.classes[label], static_cast<int>(label), folder.files);
    return folder;
}

ImageFolder listImageFolder(const std::string& root, const std::vector<std::string>& classes)
{
    ImageFolder folder;
    folder.classes = classes;
    for (const auto& name : classFolders(root)) {
        const auto it = std::find(classes.begin(), classes.end(), name);
        if (it == classes.end())
            throw ConfigError(root + "/" + name + ": a validation class the training data does not have (its classes: " +
                              std::to_string(classes.size()) + " folders)");
        addImages(root, name, static_cast<int>(it - classes.begin()), folder.files);
    }
    std::stable_sort(folder.files.begin(), folder.files.end(),
                     [](const LabelledFile& a, const LabelledFile& b) { return a.label < b.label; });
    return folder;
}

std::vector<LabelledFile> splitValidation(std::vector<LabelledFile>& files, double fraction, Random& random)
{
    std::vector<LabelledFile> kept;
    std::vector<LabelledFile> held;
    if (fraction <= 0)
        return held;
    std::map<int, std::vector<LabelledFile>> byClass;
    for (auto& file : files)
        byClass[file.label].push_back(std::move(file));
    for (auto& [label, members] : byClass) {
        std::vector<std::size_t> order(members.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        random.shuffle(order);
        std::size_t count = 0;
        if (members.size() >= 2)
            count = std::clamp<std::size_t>(static_cast<std::size_t>(std::lround(fraction * members.size())), 1,
                                            members.size() - 1);
        std::vector<bool> isHeld(members.size(), false);
        for (std::size_t i = 0; i < count; ++i)
            isHeld[order[i]] = true;
        for (std::size_t i = 0; i < members.size(); ++i)
            (isHeld[i] ? held : kept).push_back(std::move(members[i]));
    }
    files = std::move(kept);
    return held;
}

} // namespace efficientnet::training
