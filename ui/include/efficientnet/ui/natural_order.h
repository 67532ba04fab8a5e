#pragma once
// File names in the order file managers show them: runs of digits compare as numbers (2_x before 10_x), the rest
// case-insensitively. Own code rather than QCollator's numeric mode, which the C locale (scripts, CI, services)
// ignores, falling back to 10_x before 2_x.
#include <QString>

namespace efficientnet::ui {

int naturalCompare(const QString& a, const QString& b);
inline bool naturalLess(const QString& a, const QString& b) { return naturalCompare(a, b) < 0; }

} // namespace efficientnet::ui
