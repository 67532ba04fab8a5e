// Where checkpoints are looked for without --weights: the project's weights cache, torch.hub's checkpoints folder,
// then the folders a package bundles. Torch-free, so the Windows build check covers it (tests/windows_check.cmake).
#include <algorithm>
#include <filesystem>

#include "efficientnet/classifier.h"
#include "efficientnet/errors.h"
#include "efficientnet/platform.h"

namespace efficientnet {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCacheVariable = "EFFICIENTNET_CACHE_DIR";
constexpr const char* kCacheFolder = "efficientnet-libtorch";

bool isCheckpointFile(const fs::path& p)
{
    const auto ext = p.extension();
    return ext == ".pth" || ext == ".pt" || ext == ".safetensors" || ext == ".bin";
}

// "efficientnet_b0_rwightman-7f5810bc.pth" belongs to efficientnet_b0, not to efficientnet_b0x or tf_efficientnet_b0.
bool namesModel(const std::string& file, const std::string& model)
{
    if (file.rfind(model, 0) != 0 || file.size() == model.size())
        return false;
    const char next = file[model.size()];
    return next == '.' || next == '_' || next == '-';
}

std::string firstCheckpointFor(const fs::path& folder, const std::string& modelName)
{
    std::error_code ec;
    std::vector<fs::path> matches;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && isCheckpointFile(it->path()) &&
            namesModel(platform::utf8FromPath(it->path().filename()), modelName))
            matches.push_back(it->path());
    if (matches.empty())
        return {};
    std::sort(matches.begin(), matches.end());
    return platform::utf8FromPath(matches.front());
}

} // namespace

// Linux keeps $XDG_CACHE_HOME/~/.cache; Windows has no HOME (the old "$HOME/.cache" fell back to the working
// directory: C:\Program Files\... from the Start menu, not writable), so there it is the per-user, non-roaming
// %LOCALAPPDATA%, where Windows applications keep caches.
std::string weightsCacheDir()
{
    if (const auto dir = platform::environment(kCacheVariable))
        return *dir;
    return platform::utf8FromPath(platform::userCacheDir() / kCacheFolder);
}

std::string findCachedWeights(const std::string& modelName, const std::vector<std::string>& bundledFolders)
{
    std::vector<fs::path> folders;
    // A missing home folder only means those folders are not searched; the bundled ones still are.
    try {
        folders.push_back(platform::pathFromUtf8(weightsCacheDir()));
    } catch (const Error&) {
    }
    try {
        folders.push_back(platform::torchHome() / "hub" / "checkpoints");
    } catch (const Error&) {
    }
    for (const auto& folder : bundledFolders)
        folders.push_back(platform::pathFromUtf8(folder));
    for (const auto& folder : folders)
        if (auto found = firstCheckpointFor(folder, modelName); !found.empty())
            return found;
    return {};
}

} // namespace efficientnet
