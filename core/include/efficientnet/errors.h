#pragma once
// Typed errors thrown by the core. Every message says what was wrong, with which file, and what to do:
// callers (the console tool, the app's workers) show e.what() as it is.
#include <stdexcept>
#include <string>

namespace efficientnet {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A checkpoint that cannot be read, is unsafe, or does not fit the model.
class CheckpointError : public Error {
public:
    CheckpointError(const std::string& path, const std::string& problem)
        : Error(path + ": " + problem), m_path(path) {}
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

// An image that cannot be read or decoded.
class ImageError : public Error {
public:
    ImageError(const std::string& path, const std::string& problem)
        : Error(path + ": " + problem), m_path(path) {}
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

// A model name, option or device that does not exist.
class ConfigError : public Error {
public:
    using Error::Error;
};

// A download that failed: an HTTP error, a connection failure, a truncated transfer, a hash mismatch, a cancel.
// The partial file is kept for resuming where that makes sense (never after a hash mismatch).
class DownloadError : public Error {
public:
    DownloadError(const std::string& url, const std::string& problem)
        : Error(url + ": " + problem), m_url(url) {}
    const std::string& url() const { return m_url; }

private:
    std::string m_url;
};

} // namespace efficientnet
