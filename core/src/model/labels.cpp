#include <fstream>

#include "efficientnet/classifier.h"
#include "efficientnet/errors.h"
#include "efficientnet/platform.h"

namespace efficientnet {

std::vector<std::string> readLabels(const std::string& path)
{
    std::ifstream in(platform::pathFromUtf8(path));
    if (!in)
        throw Error(path + ": cannot open the class-name file");
    std::vector<std::string> labels;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        labels.push_back(line);
    }
    return labels;
}

} // namespace efficientnet
