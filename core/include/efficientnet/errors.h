#pragma once
// Typed errors thrown by the core. Every message says what was wrong, with which file, and what to do:
// callers (the console tool, the app's workers) show e.what() as it is.
#include <stdexcept>
#include <string>
#include <utility>

namespace efficientnet {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Something wrong with one file or URL: the message starts with it, and where() gives it back.
class LocatedError : public Error {
public:
    LocatedError(const std::string& where, const std::string& problem)
        : Error(where + ": " + problem), m_where(where) {}
    const std::string& where() const { return m_where; }

private:
    std::string m_where;
};

// A checkpoint that cannot be read, is unsafe, or does not fit the model.
class CheckpointError : public LocatedError {
public:
    using LocatedError::LocatedError;
};

// An image that cannot be read or decoded.
class ImageError : public LocatedError {
public:
    using LocatedError::LocatedError;
};

// A model name, option or device that does not exist.
class ConfigError : public Error {
public:
    using Error::Error;
};

// Weights of another network than the one asked for: fittingModel() names the one they fit, so a caller can offer
// to switch ("efficientnet_b3").
class NetworkMismatchError : public ConfigError {
public:
    NetworkMismatchError(const std::string& message, std::string fittingModel)
        : ConfigError(message), m_fittingModel(std::move(fittingModel)) {}
    const std::string& fittingModel() const { return m_fittingModel; }

private:
    std::string m_fittingModel;
};

// A download that failed: an HTTP error, a connection failure, a truncated transfer, a hash mismatch, a cancel.
// The partial file is kept for resuming where that makes sense (never after a hash mismatch).
class DownloadError : public LocatedError {   // where(): the URL
public:
    using LocatedError::LocatedError;
};

// A single image that does not fit in the device's memory (a batch that does not fit is classified in parts first).
// The Classifier stays usable: once memory is free again, the same call succeeds.
class OutOfMemoryError : public Error {
public:
    using Error::Error;
};

} // namespace efficientnet
