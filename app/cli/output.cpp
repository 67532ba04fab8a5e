#include "output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <stdexcept>

#include "arguments.h"
#include "efficientnet/errors.h"
#include "efficientnet/platform.h"

namespace efficientnet::cli {
namespace {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

// RFC 4180: quote a field that holds a comma, quote or line break; double the quotes inside.
std::string csvField(const std::string& text)
{
    if (text.find_first_of(",\"\r\n") == std::string::npos)
        return text;
    std::string quoted = "\"";
    for (const char c : text)
        quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

// Not usage mistakes (the command line is right; the place is not): no usage text after them.
void refuseFolder(const std::string& path, const std::string& option)
{
    std::error_code ec;
    if (std::filesystem::is_directory(platform::pathFromUtf8(path), ec))
        throw std::runtime_error("cannot write " + option + " " + path + ": it is a folder; give a file name");
}

std::runtime_error cannotWrite(const std::string& path, const std::string& option)
{
    return std::runtime_error("cannot write " + option + " " + path + " (is its folder there and writable?)");
}

} // namespace

void checkWritable(const std::string& path, const std::string& option)
{
    refuseFolder(path, option);
    std::error_code ec;
    const auto probe = platform::pathFromUtf8(path + ".tmp");   // the name AtomicFile and the core write first
    const bool existed = std::filesystem::exists(probe, ec);
    if (!std::ofstream(probe, std::ios::app))
        throw cannotWrite(path, option);
    if (!existed)
        std::filesystem::remove(probe, ec);
}

AtomicFile::AtomicFile(std::string path, std::string option)
    : m_path(std::move(path))
    , m_option(std::move(option))
    , m_temporary(platform::pathFromUtf8(m_path + ".tmp"))
{
    refuseFolder(m_path, m_option);   // the temporary file opens, and the rename at the end would fail
    m_out.open(m_temporary, std::ios::trunc);
    if (!m_out)
        throw cannotWrite(m_path, m_option);
}

void AtomicFile::check()
{
    // The first failed write's errno, kept before later calls can overwrite it (EFBIG, ENOSPC, EIO, ...).
    if (!m_out && m_error == 0)
        m_error = errno ? errno : EIO;
}

AtomicFile::~AtomicFile()
{
    if (!m_committed) {
        m_out.close();
        std::error_code ec;
        std::filesystem::remove(m_temporary, ec);
    }
}

void AtomicFile::commit()
{
    check();
    m_out.close();
    check();
    if (m_error != 0) {
        std::error_code ignored;
        std::filesystem::remove(m_temporary, ignored);
        throw Error(m_path + ": cannot be written (" + std::strerror(m_error) + "); the results above are complete, "
                    "but " + m_option + " was not written — check that the disk has room");
    }
    std::filesystem::rename(m_temporary, platform::pathFromUtf8(m_path));
    m_committed = true;
}

CsvWriter::CsvWriter(const std::string& path)
    : m_file(path, "--csv")
{
    m_file.stream() << "path,rank,index,label,probability,error\n";
}

void CsvWriter::write(const FileResult& r)
{
    auto& out = m_file.stream();
    if (!r.error.empty()) {
        out << csvField(r.path) << ",,,,," << csvField(r.error) << "\n";
        m_file.check();
        return;
    }
    for (size_t i = 0; i < r.predictions.size(); ++i) {
        const auto& p = r.predictions[i];
        out << csvField(r.path) << "," << i + 1 << "," << p.index << "," << csvField(p.label) << ","
            << std::setprecision(6) << p.probability << ",\n";
    }
    m_file.check();
}

JsonWriter::JsonWriter(std::ostream& out, const nlohmann::json& header)
    : m_out(out)
{
    // "{\n  ...\n}": reopen it for the results array
    auto text = header.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    text.erase(text.find_last_of('}'));
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    m_out << text << (header.empty() ? "" : ",") << "\n  \"results\": [" << std::flush;
}

void JsonWriter::write(const nlohmann::json& result)
{
    // A file name that is not UTF-8 (any byte string is a valid Linux name) must not abort the run: such bytes are
    // written as U+FFFD rather than throwing.
    m_out << (m_first ? "\n    " : ",\n    ")
          << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::flush;
    m_first = false;
}

void JsonWriter::finish() { m_out << "\n  ]\n}\n" << std::flush; }

Progress::Progress(size_t total, bool wanted)
    : m_total(total)
    , m_active(wanted && platform::stderrIsTerminal())
{
}

void Progress::advance()
{
    ++m_done;
    if (m_active && (std::chrono::steady_clock::now() - m_lastDraw > kRedrawInterval || m_done == m_total))
        draw();
}

void Progress::draw()
{
    m_lastDraw = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(m_lastDraw - m_start).count();
    const int filled = static_cast<int>(kBarWidth * m_done / std::max<size_t>(1, m_total));
    std::fprintf(stderr, "\r[%s%s] %zu/%zu  %.1f img/s", std::string(filled, '#').c_str(),
                 std::string(kBarWidth - filled, '.').c_str(), m_done, m_total, seconds > 0 ? m_done / seconds : 0.0);
    std::fflush(stderr);
}

void Progress::finish()
{
    if (m_active && m_done > 0)
        std::fputc('\n', stderr);
    m_active = false;
}

} // namespace efficientnet::cli
