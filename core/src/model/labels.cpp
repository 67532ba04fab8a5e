#include "efficientnet/checkpoint_info.h"
#include "efficientnet/classifier.h"

namespace efficientnet {

std::vector<std::string> readLabels(const std::string& path) { return readLabelsFile(path).names; }

} // namespace efficientnet
