#pragma once
// The ImageFolder layout (torchvision.datasets.ImageFolder): ROOT/<class>/.../<image>, classes sorted by folder name,
// images found recursively by extension. Splitting a validation set off it, per class and reproducibly. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

#include "training/random.h"

namespace efficientnet::training {

struct LabelledFile {
    std::string path;   // UTF-8
    int label;
};

struct ImageFolder {
    std::vector<std::string> classes;   // folder names, sorted
    std::vector<LabelledFile> files;    // sorted by class, then path
};

// Throws ConfigError when `root` does not exist, is not a folder, or has no class subfolders.
ImageFolder listImageFolder(const std::string& root);

// The same layout for validation: its class folders must be among `classes` (they get the same indices); a class
// may be absent. Throws ConfigError naming a folder that is not a training class.
ImageFolder listImageFolder(const std::string& root, const std::vector<std::string>& classes);

// Holds out round(fraction * n) files of each class with n >= 2 (at least one when fraction > 0), chosen by `random`;
// `files` keeps the rest. Both stay sorted by class, then path.
std::vector<LabelledFile> splitValidation(std::vector<LabelledFile>& files, double fraction, Random& random);

} // namespace efficientnet::training
