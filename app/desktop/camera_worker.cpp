#include "camera_worker.h"

#include <QFileInfo>
#include <QSettings>
#include <QThread>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "core_paths.h"
#include "efficientnet/limits.h"

namespace efficientnet::desktop {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kMinFps = 1.0;
constexpr double kMaxFps = 240.0;
// A source that delivers no frame for this long has stalled (a camera unplugged or taken by another program, a
// stream whose server stopped sending): live mode stops and says so. Streams and files are opened through FFmpeg
// with this read timeout, so a blocked read returns; a camera's failing reads are retried until it passes.
constexpr auto kStallTimeout = std::chrono::seconds(5);
constexpr int kStallTimeoutMs = 5000;
constexpr int kOpenTimeoutMs = 10000;
constexpr auto kRetryDelay = std::chrono::milliseconds(20);
constexpr auto kPausePoll = std::chrono::milliseconds(10);

// Streams and files: FFmpeg with open and read timeouts (CAP_PROP_*_TIMEOUT_MSEC, OpenCV >= 4.6), so that a server
// that stops sending cannot block the capture thread forever; any other backend if FFmpeg cannot open it.
void openSource(cv::VideoCapture& capture, const std::string& source)
{
    const std::vector<int> timeouts{cv::CAP_PROP_OPEN_TIMEOUT_MSEC, kOpenTimeoutMs, cv::CAP_PROP_READ_TIMEOUT_MSEC,
                                    kStallTimeoutMs};
    if (capture.open(source, cv::CAP_FFMPEG, timeouts))
        return;
    capture.open(source);
}

QString seconds(Clock::duration duration)
{
    return QString::number(std::chrono::duration<double>(duration).count(), 'f', 1);
}

Image toImage(const cv::Mat& bgr)
{
    cv::Mat rgb;
    if (bgr.channels() == 1)
        cv::cvtColor(bgr, rgb, cv::COLOR_GRAY2RGB);
    else if (bgr.channels() == 4)
        cv::cvtColor(bgr, rgb, cv::COLOR_BGRA2RGB);
    else
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    Image image;
    image.width = rgb.cols;
    image.height = rgb.rows;
    image.rgb.resize(static_cast<size_t>(rgb.cols) * rgb.rows * 3);
    const size_t rowBytes = static_cast<size_t>(rgb.cols) * 3;
    for (int y = 0; y < rgb.rows; ++y)
        std::memcpy(image.rgb.data() + y * rowBytes, rgb.ptr(y), rowBytes);
    return image;
}

#ifdef Q_OS_WIN
// Windows 10 and 11 refuse a camera to desktop programs when the user (or a policy) switched that off; OpenCV then
// just fails to open it, which looks like a missing camera. Windows keeps the switches per user in the capability
// consent store: Value "Deny" under webcam (all apps) or webcam\NonPackaged (desktop apps). That store is not a
// documented interface, so it only sharpens the message; the advice is given whenever a camera fails to open.
bool windowsDeniesCamera()
{
    const QString store = QStringLiteral("HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\"
                                         "CapabilityAccessManager\\ConsentStore\\webcam");
    for (const QString& key : {store, store + QStringLiteral("\\NonPackaged")})
        if (QSettings(key, QSettings::NativeFormat).value(QStringLiteral("Value")).toString() == QLatin1String("Deny"))
            return true;
    return false;
}
#endif

QString cameraOpenFailure(int index)
{
    QString message = CameraWorker::tr("Cannot open camera %1: no such camera, or it is in use by another program.").arg(index);
#ifdef Q_OS_WIN
    message += windowsDeniesCamera()
                   ? CameraWorker::tr(" Windows' privacy settings do not let desktop apps use the camera.")
                   : CameraWorker::tr(" Windows may also be blocking it.");
    message += CameraWorker::tr(" To allow it: Settings > Privacy & security > Camera, turn on \"Camera access\" and "
                                "\"Let desktop apps access your camera\" (Windows 10: Settings > Privacy > Camera).");
#endif
    return message + CameraWorker::tr(" Live mode stopped; choose another camera or a video file.");
}

} // namespace

bool DisplaySlot::put(DisplayFrame frame)
{
    std::lock_guard lock(m_mutex);
    const bool wasEmpty = !m_frame.has_value();
    m_frame = std::move(frame);
    return wasEmpty;
}

std::optional<DisplayFrame> DisplaySlot::take()
{
    std::lock_guard lock(m_mutex);
    std::optional<DisplayFrame> frame;
    frame.swap(m_frame);
    return frame;
}

CameraWorker::CameraWorker(std::shared_ptr<FrameSlot> frames, std::shared_ptr<DisplaySlot> display,
                           std::shared_ptr<std::atomic<quint64>> activeSession, std::shared_ptr<LiveControl> control)
    : m_frames(std::move(frames))
    , m_display(std::move(display))
    , m_activeSession(std::move(activeSession))
    , m_control(std::move(control))
{
}

void CameraWorker::run(const QString& source, bool paceFiles, quint64 session)
{
    if (*m_activeSession != session) {
        Q_EMIT stopped(session, tr("Live mode stopped."), false);
        return;   // stopped (or restarted) before it began
    }
    bool isIndex = false;
    const int index = source.toInt(&isIndex);
    if (!isIndex && !source.contains("://") && !QFileInfo::exists(source)) {   // a file name, not a stream URL
        Q_EMIT stopped(session, tr("Cannot open %1: the file does not exist — check the path. Live mode stopped.").arg(source),
                       true);
        return;
    }
    cv::VideoCapture capture;
    try {
        if (isIndex)
            capture.open(index);
        else
            // A URL, or a file name: UTF-8 on Windows, which OpenCV's FFmpeg backend expects there and which the
            // executables' UTF-8 code page manifest makes the ANSI code page of narrow Windows calls.
            openSource(capture, toCorePath(source));
    } catch (const cv::Exception& e) {
        Q_EMIT stopped(session, tr("Cannot open %1: %2").arg(source, QString::fromStdString(e.what())), true);
        return;
    }
    if (!capture.isOpened()) {
        Q_EMIT stopped(session,
                       isIndex ? cameraOpenFailure(index)
                               : tr("Cannot open %1: not a readable video file or stream. Live mode stopped.").arg(source),
                       true);
        return;
    }
    const double width = capture.get(cv::CAP_PROP_FRAME_WIDTH), height = capture.get(cv::CAP_PROP_FRAME_HEIGHT);
    if (width * height > static_cast<double>(kMaxVideoFramePixels)) {
        Q_EMIT stopped(session, tr("Cannot show %1: its frames are %2×%3 pixels, more than the limit of %4 "
                                   "megapixels. Live mode stopped.")
                                    .arg(source).arg(width).arg(height).arg(kMaxVideoFramePixels / 1000000),
                       true);
        return;
    }
    const double fps = capture.get(cv::CAP_PROP_FPS);
    const bool pace = !isIndex && paceFiles && fps >= kMinFps && fps <= kMaxFps;
    const auto framePeriod = pace ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / fps))
                                  : Clock::duration::zero();
    Q_EMIT opened(session, tr("%1 (%2×%3%4)")
                               .arg(isIndex ? tr("camera %1").arg(index) : source)
                               .arg(capture.get(cv::CAP_PROP_FRAME_WIDTH))
                               .arg(capture.get(cv::CAP_PROP_FRAME_HEIGHT))
                               .arg(fps > 0 ? tr(", %1 fps").arg(fps, 0, 'f', 1) : QString()));

    quint64 sequence = 0;
    auto next = Clock::now();
    auto lastFrame = Clock::now();
    cv::Mat frame;
    while (*m_activeSession == session) {
        // Paused: nothing is read (a file stays where it is) until resumed or asked for one step.
        if (m_control->paused && m_control->steps == 0) {
            std::this_thread::sleep_for(kPausePoll);
            next = lastFrame = Clock::now();   // neither pacing nor stall detection counts the pause
            continue;
        }
        if (m_control->steps > 0)
            --m_control->steps;
        bool ok = false;
        const auto readStart = Clock::now();
        try {
            ok = capture.read(frame) && !frame.empty();
        } catch (const cv::Exception&) {
            ok = false;
        }
        const auto now = Clock::now();
        // FFmpeg's read timeout ends a blocked read; the read may still return the part of a frame it had, so a
        // read that took the whole timeout means a stall whether or not it returned a frame.
        if (!isIndex && now - readStart >= kStallTimeout) {
            Q_EMIT stopped(session, tr("%1 stalled: no frame for %2 s (the stream's server stopped sending). "
                                       "Live mode stopped.").arg(source, seconds(now - lastFrame)), true);
            return;
        }
        if (!ok) {
            const bool stalled = now - lastFrame >= kStallTimeout;
            if (!isIndex) {
                if (m_control->loopFiles && sequence > 0 && capture.set(cv::CAP_PROP_POS_FRAMES, 0))
                    continue;
                Q_EMIT stopped(session, tr("The video %1 ended after %2 frames.").arg(source).arg(sequence), false);
                return;
            }
            if (stalled) {
                Q_EMIT stopped(session, tr("Camera %1 stopped delivering frames: none for %2 s (unplugged, or "
                                           "taken by another program). Live mode stopped.")
                                            .arg(index).arg(seconds(now - lastFrame)), true);
                return;
            }
            std::this_thread::sleep_for(kRetryDelay);
            continue;
        }
        lastFrame = now;
        if (static_cast<uint64_t>(frame.total()) > kMaxVideoFramePixels) {   // the stream changed size mid-way
            Q_EMIT stopped(session, tr("%1 sent a %2×%3 frame, more than the limit of %4 megapixels. Live mode "
                                       "stopped.").arg(source).arg(frame.cols).arg(frame.rows)
                                       .arg(kMaxVideoFramePixels / 1000000), true);
            return;
        }
        Frame captured;
        captured.generation = session;
        captured.sequence = ++sequence;
        captured.capturedNs = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
        captured.pixels = toImage(frame);
        // The screen's copy: the view paints every frame as it comes, whatever the model is doing.
        const Image& rgb = captured.pixels;
        DisplayFrame shown{session, sequence,
                           QImage(rgb.rgb.data(), rgb.width, rgb.height, rgb.width * 3, QImage::Format_RGB888).copy()};
        if (m_display->put(std::move(shown)))
            Q_EMIT displayReady();
        if (m_frames->put(std::move(captured)))
            Q_EMIT frameReady();
        if (pace) {
            next += framePeriod;
            std::this_thread::sleep_until(next);
        }
    }
    Q_EMIT stopped(session, tr("Live mode stopped."), false);
}

} // namespace efficientnet::desktop
