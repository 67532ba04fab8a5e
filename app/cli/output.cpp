#include "output.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <stdexcept>

#include "arguments.h"
#include "efficientnet/errors.h"
#include "efficientnet/platform.h"

namespace efficientnet::cli {
namespace {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

struct CodePoints {
    char32_t first;
    char32_t last;
};

// Two columns: Markus Kuhn's wcwidth() (https://www.cl.cam.ac.uk/~mgk25/ucs/wcwidth.c) blocks, and the emoji blocks
// terminals draw wide.
constexpr CodePoints kWide[] = {
    {0x1100, 0x115f},   {0x2329, 0x232a},   {0x2e80, 0x303e},   {0x3040, 0xa4cf},   {0xac00, 0xd7a3},
    {0xf900, 0xfaff},   {0xfe10, 0xfe19},   {0xfe30, 0xfe6f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},
    {0x1f300, 0x1f64f}, {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};
// No column: combining marks (an accent written after its letter), zero-width space and joiners, variation selectors.
constexpr CodePoints kZeroWidth[] = {
    {0x0300, 0x036f}, {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff}, {0x200b, 0x200d},
    {0x20d0, 0x20ff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f},
};

bool within(char32_t code, const CodePoints* ranges, std::size_t count)
{
    return std::any_of(ranges, ranges + count, [code](const CodePoints& r) { return code >= r.first && code <= r.last; });
}

// The code point at text[i] and its length in bytes; a byte that does not start a UTF-8 sequence stands for itself.
std::size_t nextCodePoint(std::string_view text, std::size_t i, char32_t& code)
{
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (length == 1 || i + length > text.size()) {
        code = lead;
        return 1;
    }
    code = lead & (0x7f >> length);
    for (std::size_t k = 1; k < length; ++k)
        code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
    return length;
}

std::size_t columnsOf(char32_t code)
{
    if (within(code, kZeroWidth, std::size(kZeroWidth)))
        return 0;
    return within(code, kWide, std::size(kWide)) ? 2 : 1;
}

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

std::size_t displayWidth(std::string_view text)
{
    std::size_t columns = 0;
    char32_t code = 0;
    for (std::size_t i = 0; i < text.size();) {
        i += nextCodePoint(text, i, code);
        columns += columnsOf(code);
    }
    return columns;
}

std::string fitColumns(std::string_view text, std::size_t columns)
{
    std::size_t used = 0, i = 0;
    char32_t code = 0;
    while (i < text.size()) {
        const std::size_t length = nextCodePoint(text, i, code);
        if (used + columnsOf(code) > columns)
            break;
        used += columnsOf(code);
        i += length;
    }
    return std::string(text.substr(0, i));
}

std::string padRight(const std::string& text, std::size_t columns)
{
    return text + std::string(columns - std::min(columns, displayWidth(text)), ' ');
}

std::string padLeft(const std::string& text, std::size_t columns)
{
    return std::string(columns - std::min(columns, displayWidth(text)), ' ') + text;
}

std::string skippedNote(std::size_t count)
{
    return std::to_string(count) + (count == 1 ? " unreadable image was skipped" : " unreadable images were skipped");
}

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
