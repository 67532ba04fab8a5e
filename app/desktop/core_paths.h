#pragma once
// QString paths to and from the core's path strings (efficientnet/platform.h): UTF-8 on Windows, the file name's
// own bytes on Linux. Not QFile::encodeName everywhere: on Windows it gives the ANSI code page ("On Windows, the
// encoding is the one from active Windows (ANSI) codepage", Qt's QFile documentation), which cannot hold every name
// (C:\Users\José\... in a Greek code page, any CJK name) while the core reads UTF-8 there. On Linux it is the right
// one: it round-trips names that are not valid UTF-8, which toStdString() would replace.
#include <QFile>
#include <QString>
#include <string>

namespace efficientnet::desktop {

inline std::string toCorePath(const QString& path)
{
#ifdef Q_OS_WIN
    return path.toStdString();   // UTF-8
#else
    return QFile::encodeName(path).toStdString();
#endif
}

inline QString fromCorePath(const std::string& path)
{
#ifdef Q_OS_WIN
    return QString::fromStdString(path);   // from UTF-8
#else
    return QFile::decodeName(QByteArray::fromStdString(path));
#endif
}

} // namespace efficientnet::desktop
