// Downloading weights with libcurl, verifying them with OpenSSL's SHA-256. The file only reaches its final name by an
// atomic rename after it verified, so a reader of the cache never sees a partial or corrupt checkpoint.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <vector>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "efficientnet/download.h"
#include "efficientnet/errors.h"
#include "efficientnet/platform.h"

namespace efficientnet {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPartSuffix = ".part";
constexpr const char* kUserAgent = "efficientnet-libtorch (libcurl)";
// Give up on a server that does not answer, and on a transfer that stalls; but set no limit on the whole transfer,
// since a 260 MB checkpoint over a slow link legitimately takes a long time.
constexpr long kConnectTimeoutSeconds = 30;
constexpr long kLowSpeedBytesPerSecond = 1024;
constexpr long kLowSpeedSeconds = 60;
constexpr long kMaxRedirects = 10;   // GitHub releases and the Hugging Face hub redirect to their CDNs
constexpr long kHttpPartialContent = 206;
constexpr long kHttpNotFound = 404;
constexpr long kHttpRangeNotSatisfiable = 416;
constexpr std::size_t kHashBufferBytes = 1 << 20;

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlHeaders = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;
using File = std::unique_ptr<std::FILE, decltype(&std::fclose)>;

// What one HTTP request did to the .part file. The callbacks below fill it in.
struct Transfer {
    CURL* curl = nullptr;
    std::FILE* file = nullptr;             // the .part, opened for appending
    std::uint64_t resumeFrom = 0;          // bytes in the .part when the request went out
    std::uint64_t base = 0;                // where this response's body starts in the file
    std::uint64_t written = 0;             // body bytes written from this response
    std::int64_t rangeStart = -1;          // start of the final response's Content-Range; -1: none
    curl_off_t announced = -1;             // the final response's Content-Length; -1: none
    bool started = false;                  // the body's place in the file is decided
    bool rangeMismatch = false;            // a 206 for another range than asked: start over
    int writeErrno = 0;
    bool cancelled = false;
    const DownloadProgress* progress = nullptr;
    const std::atomic<bool>* cancel = nullptr;
};

enum class Outcome { Fresh, Resumed, RangeRefused };

void initCurlOnce()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string text)
{
    for (auto& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// Headers of every response arrive here, redirects included; only the last response's Content-Range counts.
size_t onHeader(char* data, size_t size, size_t count, void* user)
{
    auto& t = *static_cast<Transfer*>(user);
    const std::string line(data, size * count);
    const std::string key = lower(line.substr(0, line.find(':')));
    if (line.rfind("HTTP/", 0) == 0)
        t.rangeStart = -1;
    else if (key == "content-range") {
        // "Content-Range: bytes START-END/TOTAL"
        const auto bytes = lower(line).find("bytes");
        if (bytes != std::string::npos)
            t.rangeStart = std::strtoll(line.c_str() + bytes + 5, nullptr, 10);
    }
    return size * count;
}

// At the first body byte: a 206 continues the .part where it ends; anything else is the whole file, so what the
// .part held is dropped.
bool startBody(Transfer& t)
{
    long status = 0;
    curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &status);
    t.started = true;
    if (status == kHttpPartialContent) {
        if (t.rangeStart != static_cast<std::int64_t>(t.resumeFrom)) {
            t.rangeMismatch = true;
            return false;
        }
        t.base = t.resumeFrom;
        return true;
    }
    t.base = 0;
    if (!platform::truncateToEmpty(t.file)) {
        t.writeErrno = errno;
        return false;
    }
    return true;
}

size_t onBody(char* data, size_t size, size_t count, void* user)
{
    auto& t = *static_cast<Transfer*>(user);
    if (!t.started && !startBody(t))
        return 0;   // aborts the transfer with CURLE_WRITE_ERROR
    const size_t written = std::fwrite(data, 1, size * count, t.file);
    if (written != size * count)
        t.writeErrno = errno;
    t.written += written;
    return written;
}

int onProgress(void* user, curl_off_t total, curl_off_t, curl_off_t, curl_off_t)
{
    auto& t = *static_cast<Transfer*>(user);
    if (t.cancel && t.cancel->load()) {
        t.cancelled = true;
        return 1;   // aborts the transfer with CURLE_ABORTED_BY_CALLBACK
    }
    if (t.started && t.progress && *t.progress)
        (*t.progress)(t.base + t.written, total > 0 ? t.base + static_cast<std::uint64_t>(total) : 0);
    return 0;
}

CurlHandle makeRequest(const std::string& url, Transfer& t, char* errorBuffer)
{
    CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl)
        throw DownloadError(url, "libcurl could not be initialised");
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    // Only web URLs, also after redirects: a registry or a redirect must not read file:// or speak other protocols.
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, kMaxRedirects);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);   // HTTP >= 400 is an error, and its body never reaches the .part
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);      // timeouts without SIGALRM: safe on the app's worker threads
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, kLowSpeedBytesPerSecond);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kLowSpeedSeconds);
    curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    return curl;
}

std::string kept(const fs::path& part)
{
    std::error_code ec;
    if (!fs::exists(part, ec))
        return {};
    return "; the partial download is kept in " + platform::utf8FromPath(part) + " and resumes next time";
}

// After a failed request: an empty .part is worth nothing to resume, so it goes.
void dropIfEmpty(const fs::path& part)
{
    std::error_code ec;
    if (fs::file_size(part, ec) == 0 && !ec)
        fs::remove(part, ec);
}

std::string describe(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return "connection failed: ";
    case CURLE_OPERATION_TIMEDOUT:
        return "timed out (no connection within " + std::to_string(kConnectTimeoutSeconds) + " s, or under " +
               std::to_string(kLowSpeedBytesPerSecond) + " bytes/s for " + std::to_string(kLowSpeedSeconds) + " s): ";
    default:
        return "transfer failed: ";
    }
}

[[noreturn]] void throwFailure(const std::string& url, const Transfer& t, CURLcode code, long status,
                               const char* detail, const fs::path& part)
{
    dropIfEmpty(part);
    if (t.cancelled)
        throw DownloadError(url, "cancelled" + kept(part));
    if (t.writeErrno)
        throw DownloadError(url, "cannot write " + platform::utf8FromPath(part) + ": " + std::strerror(t.writeErrno));
    if (code == CURLE_HTTP_RETURNED_ERROR)
        throw DownloadError(url, "the server answered HTTP " + std::to_string(status) +
                                     (status == kHttpNotFound ? " (not found: the registry's URL may be out of date)" : ""));
    if (code == CURLE_PARTIAL_FILE)
        throw DownloadError(url, "truncated transfer: the connection closed after " + std::to_string(t.written) +
                                     " of the announced " + std::to_string(t.announced) + " bytes" + kept(part));
    throw DownloadError(url, describe(code) + (*detail ? detail : curl_easy_strerror(code)) + kept(part));
}

// One request into the .part: continues it when it has bytes and the server answers 206, else rewrites it.
Outcome transferOnce(const std::string& url, const fs::path& part, const DownloadProgress& progress,
                     const std::atomic<bool>* cancel)
{
    File file(platform::openFile(part, "ab"), &std::fclose);
    if (!file)
        throw DownloadError(url, "cannot write " + platform::utf8FromPath(part) + ": " + std::strerror(errno));
    Transfer t;
    t.file = file.get();
    // Where "a" mode starts is up to the C library; and a checkpoint may pass 2 GiB, which a 32-bit ftell (Windows'
    // long) cannot count: the platform layer's 64-bit offset.
    const auto end = platform::seekToEnd(file.get());
    if (!end)
        throw DownloadError(url, "cannot read the size of " + platform::utf8FromPath(part) + ": " + std::strerror(errno));
    t.resumeFrom = *end;
    t.progress = &progress;
    t.cancel = cancel;
    char detail[CURL_ERROR_SIZE] = {};
    const CurlHandle curl = makeRequest(url, t, detail);
    t.curl = curl.get();
    const std::string range = std::to_string(t.resumeFrom) + "-";
    if (t.resumeFrom > 0)
        curl_easy_setopt(t.curl, CURLOPT_RANGE, range.c_str());

    const CURLcode code = curl_easy_perform(t.curl);
    long status = 0;
    curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &t.announced);
    if (code == CURLE_OK && !t.started)
        startBody(t);   // an empty body: a 206 keeps the .part as it is, anything else empties it
    // Flushed and synced before any rename, so that after a crash the final name never holds a short file.
    if (!platform::flushToDisk(file.get()))
        t.writeErrno = t.writeErrno ? t.writeErrno : errno;
    file.reset();

    const bool refused = status == kHttpRangeNotSatisfiable && t.resumeFrom > 0;
    if (t.rangeMismatch || (code == CURLE_HTTP_RETURNED_ERROR && refused))
        return Outcome::RangeRefused;
    if (code != CURLE_OK || t.writeErrno)
        throwFailure(url, t, code, status, detail, part);
    return t.base > 0 ? Outcome::Resumed : Outcome::Fresh;
}

// Returns whether an earlier partial download was continued.
bool transferToPart(const std::string& url, const fs::path& part, const DownloadProgress& progress,
                    const std::atomic<bool>* cancel)
{
    const Outcome outcome = transferOnce(url, part, progress, cancel);
    if (outcome != Outcome::RangeRefused)
        return outcome == Outcome::Resumed;
    // The server would not continue this .part (416, or another range): it may be stale, so start over once.
    std::error_code ec;
    fs::remove(part, ec);
    if (transferOnce(url, part, progress, cancel) != Outcome::RangeRefused)
        return false;
    throw DownloadError(url, "the server refused a download from the start");
}

bool hashMatches(const std::string& actual, const WeightsDownload& entry)
{
    return entry.sha256IsPrefix ? actual.rfind(entry.sha256, 0) == 0 : actual == entry.sha256;
}

std::string expectedHash(const WeightsDownload& entry)
{
    return entry.sha256IsPrefix ? entry.sha256 + "... (torch.hub prefix)" : entry.sha256;
}

} // namespace

std::string sha256OfFile(const std::string& path)
{
    std::ifstream in(platform::pathFromUtf8(path), std::ios::binary);
    if (!in)
        throw Error(path + ": cannot open it to compute its SHA-256");
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1)
        throw Error("OpenSSL cannot compute SHA-256 (EVP_sha256 unavailable)");
    std::vector<char> buffer(kHashBufferBytes);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in.gcount() > 0)
            EVP_DigestUpdate(context.get(), buffer.data(), static_cast<size_t>(in.gcount()));
    }
    if (in.bad())
        throw Error(path + ": read error while computing its SHA-256");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context.get(), digest, &length);
    static const char* const kHex = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0xf];
    }
    return hex;
}

DownloadResult downloadWeights(const WeightsDownload& entry, const std::string& cacheDir,
                               const DownloadProgress& progress, const std::atomic<bool>* cancel)
{
    const fs::path target = platform::pathFromUtf8(cacheDir) / platform::pathFromUtf8(entry.file);
    DownloadResult result;
    result.path = platform::utf8FromPath(target);
    result.verified = !entry.sha256.empty();
    std::error_code ec;
    if (fs::is_regular_file(target, ec)) {
        // Already cached. A file that does not verify stays until a verified download replaces it.
        result.sha256 = sha256OfFile(result.path);
        result.alreadyPresent = !result.verified || hashMatches(result.sha256, entry);
        if (result.alreadyPresent)
            return result;
    }
    fs::create_directories(platform::pathFromUtf8(cacheDir), ec);
    if (ec)
        throw DownloadError(entry.url, "cannot create the weights cache " + cacheDir + ": " + ec.message());

    initCurlOnce();
    const fs::path part = platform::pathFromUtf8(result.path + kPartSuffix);
    result.resumed = transferToPart(entry.url, part, progress, cancel);
    result.sha256 = sha256OfFile(platform::utf8FromPath(part));
    if (result.verified && !hashMatches(result.sha256, entry)) {
        fs::remove(part, ec);   // resuming a corrupt file would only reproduce it
        throw DownloadError(entry.url, "SHA-256 mismatch: expected " + expectedHash(entry) + ", got " +
                                           result.sha256 + "; the download was deleted and nothing was cached. "
                                           "The file on the server is not the one the registry names.");
    }
    fs::rename(part, target, ec);   // atomic within one folder: the final name holds all or nothing
    if (ec)
        throw DownloadError(entry.url, "cannot move " + platform::utf8FromPath(part) + " to " + result.path + ": " +
                                           ec.message());
    return result;
}

} // namespace efficientnet
