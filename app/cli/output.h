#pragma once
// Output helpers of `classify`: a CSV file written atomically, and a progress bar on stderr.
#include <chrono>
#include <cstddef>
#include <fstream>
#include <string>

#include "batch.h"

namespace efficientnet::cli {

// Rows go to FILE.tmp as results arrive; commit() renames it to FILE, so FILE is either the previous file or the
// complete new one. Without commit() (an error stopped the run) the temporary file is removed.
class CsvWriter {
public:
    explicit CsvWriter(std::string path);
    ~CsvWriter();
    CsvWriter(const CsvWriter&) = delete;
    CsvWriter& operator=(const CsvWriter&) = delete;

    void write(const FileResult& result);   // one row per prediction, or one row with the error
    void commit();

private:
    std::string m_path;
    std::string m_temporary;
    std::ofstream m_out;
    bool m_committed = false;
};

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
