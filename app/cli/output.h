#pragma once
// Output helpers of `classify`: CSV and JSON written as results arrive (files atomically), a progress bar on
// stderr, and text measured in terminal columns for the tables of `evaluate`.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "batch.h"

namespace efficientnet::cli {

// "1 unreadable image was skipped" / "3 unreadable images were skipped": train's and evaluate's closing line.
std::string skippedNote(std::size_t count);

// A file written whole or not at all: text goes to FILE.tmp as it comes; commit() renames it to FILE, so FILE is
// either the previous file or the complete new one. Without commit() (an error stopped the run) the temporary file
// is removed. `option` names the command-line option in messages.
// Throws std::runtime_error naming the option and the file when nothing can be written at `path`: a folder is
// there, or its folder is missing or read-only. For checks before long work, so that the work is not lost at its end.
void checkWritable(const std::string& path, const std::string& option);

class AtomicFile {
public:
    AtomicFile(std::string path, std::string option);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    std::ostream& stream() { return m_out; }
    // Call after writing: remembers why the first write failed, for commit()'s message.
    void check();
    // Renames the temporary file to the final name; throws efficientnet::Error naming the file and the reason when a
    // write failed (full disk, file-size limit), removing the temporary file.
    void commit();

private:
    std::string m_path;                 // as given: UTF-8 (Linux: the name's bytes)
    std::string m_option;
    std::filesystem::path m_temporary;
    std::ofstream m_out;
    int m_error = 0;
    bool m_committed = false;
};

// `--csv FILE`: one row per prediction, or one row with the error, as results arrive.
class CsvWriter {
public:
    explicit CsvWriter(const std::string& path);
    void write(const FileResult& result);
    AtomicFile& file() { return m_file; }

private:
    AtomicFile m_file;
};

// The classify JSON document, {"device", "model", "weights", "results": [...]}, streamed: the header at once, then
// each result on its own line as it arrives (flushed, so a reader of a pipe sees progress), then the closing
// brackets. Whole, it is one ordinary JSON document.
class JsonWriter {
public:
    JsonWriter(std::ostream& out, const nlohmann::json& header);
    void write(const nlohmann::json& result);
    void finish();

private:
    std::ostream& m_out;
    bool m_first = true;
};

// Columns that UTF-8 `text` takes in a terminal: one per code point, two for the wide East Asian ones (CJK
// ideographs, kana, Hangul, full-width forms) and the emoji blocks, none for combining marks. The wide ranges are
// Markus Kuhn's wcwidth() blocks (Unicode's EastAsianWidth W and F, coarsely); POSIX wcwidth() itself depends on the
// locale and does not exist on Windows. Bytes that are not UTF-8 count a column each (printable() escapes them).
std::size_t displayWidth(std::string_view text);

// The longest start of `text` that fits in `columns` columns, cut between code points.
std::string fitColumns(std::string_view text, std::size_t columns);

// `text` and spaces to `columns` columns: after it (left-aligned) or before it (right-aligned). std::setw pads to
// a number of bytes, which puts every name with a non-ASCII letter out of line.
std::string padRight(const std::string& text, std::size_t columns);
std::string padLeft(const std::string& text, std::size_t columns);

// "[#####.....] 120/200  37.5 img/s" on one line, redrawn in place, only when stderr is a terminal.
class Progress {
public:
    Progress(size_t total, bool wanted);
    void advance();
    void finish();

private:
    void draw();

    size_t m_total;
    size_t m_done = 0;
    bool m_active;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point m_lastDraw{};
};

} // namespace efficientnet::cli
