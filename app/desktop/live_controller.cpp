#include "live_controller.h"

#include <QImageWriter>
#include <chrono>

#include "efficientnet/ui/gallery_panel.h"
#include "efficientnet/ui/image_view.h"
#include "efficientnet/ui/main_window.h"

namespace efficientnet::desktop {
namespace {

constexpr double kRateSmoothing = 0.1;     // weight of the newest interval: steady at 30 fps, follows within ~1 s
constexpr int kOverlayTopK = 5;            // rows on the video when top-k is asked for

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

QVector<ui::PredictionRow> toRows(const std::vector<Prediction>& predictions)
{
    QVector<ui::PredictionRow> rows;
    for (const auto& p : predictions)
        rows.push_back({QString::fromStdString(p.label), p.index, p.probability});
    return rows;
}

} // namespace

void RateMeter::tick(qint64 nowNs)
{
    if (m_lastNs) {
        const double interval = double(std::max<qint64>(1, nowNs - m_lastNs));
        m_intervalNs = m_intervalNs < 0 ? interval : (1 - kRateSmoothing) * m_intervalNs + kRateSmoothing * interval;
    }
    m_lastNs = nowNs;
}

void RateMeter::reset()
{
    m_lastNs = 0;
    m_intervalNs = -1;
}

LiveController::LiveController(CameraController* camera, FrameSlot* frames, ui::MainWindow* window, QObject* parent)
    : QObject(parent)
    , m_camera(camera)
    , m_frames(frames)
    , m_window(window)
{
    connect(m_camera, &CameraController::displayReady, this, &LiveController::onDisplayReady);
    connect(m_camera, &CameraController::stopped, this, &LiveController::onStopped);
}

void LiveController::start(const QString& source, bool paceFiles)
{
    m_lastSequence = m_framesDisplayed = 0;
    m_smoother.reset();   // a new session does not inherit the last one's scores
    m_latest.clear();
    m_display.reset();
    m_classified.reset();
    m_endNote.clear();
    m_frames->clear();
    m_frames->resetCounters();
    CameraOptions options;
    options.source = source;
    options.paceFiles = paceFiles;
    options.loopFiles = m_window->loop();
    m_session = m_shownSession = m_camera->start(options);
    m_window->setCameraActive(true);
    m_window->showGallery(false);   // the video takes the window; View > Gallery brings it back
    Q_EMIT statusChanged();
}

void LiveController::stop()
{
    m_camera->stop();     // the capture loop reports "stopped"
    m_shownSession = 0;   // results still in flight are stale from now on
}

void LiveController::setPaused(bool paused)
{
    m_camera->setPaused(paused);
    m_window->setLivePaused(paused);
    m_display.reset();
    m_classified.reset();
    updateOverlay();
}

void LiveController::step() { m_camera->step(); }
void LiveController::setLoop(bool loop) { m_camera->setLoop(loop); }

void LiveController::setOverlayTopK(bool on)
{
    m_overlayTopK = on;
    updateOverlay();
}

void LiveController::modelChanged()
{
    m_classified.reset();
    m_smoother.reset();
}

void LiveController::setSmoothing(bool on)
{
    m_smoothing = on;
    m_smoother.reset();
}

bool LiveController::snapshot(const QString& path, QString* error)
{
    const QImage annotated = m_window->imageView()->annotatedImage();
    QImageWriter writer(path);
    if (annotated.isNull() || !writer.write(annotated)) {
        if (error)
            *error = annotated.isNull() ? tr("There is no frame to save.")
                                        : tr("Cannot save %1: %2").arg(path, writer.errorString());
        return false;
    }
    return true;
}

// Every captured frame is painted as it comes (up to the source's rate): the view is live even when the model
// classifies a few frames a second. The overlay carries the newest prediction.
void LiveController::onDisplayReady()
{
    auto frame = m_camera->takeDisplayFrame();
    if (!frame || frame->session != m_shownSession || m_shownSession == 0)
        return;
    m_display.tick(nowNs());
    ++m_framesDisplayed;
    m_latestFrame = frame->image;
    m_window->showImage(frame->image, tr("live frame %1").arg(frame->sequence));
    updateOverlay();
    Q_EMIT frameDisplayed(frame->sequence);
}

void LiveController::onFrameClassified(const FrameResult& result)
{
    // A video that ended by itself still shows the frames the model was busy with; a stopped or replaced
    // session's results are stale.
    if (result.generation != m_shownSession || result.sequence <= m_lastSequence) {
        ++m_staleResults;
        return;
    }
    m_lastSequence = result.sequence;
    if (!result.error.isEmpty()) {
        m_window->showError(ui::ErrorTopic::Live, result.error);
        return;
    }
    m_classified.tick(nowNs());
    m_latest = m_smoothing ? m_smoother.update(result.predictions) : result.predictions;
    m_window->showPredictions(toRows(m_latest));
    if (m_framesDisplayed == 0)   // nothing painted yet (a very short video): show the classified frame itself
        m_window->showImage(result.frame, tr("live frame %1").arg(result.sequence));
    updateOverlay();
    Q_EMIT frameShown(result.sequence);
    Q_EMIT statusChanged();
}

void LiveController::updateOverlay()
{
    if (!m_shownSession) {
        m_window->imageView()->setOverlay({});
        return;
    }
    QStringList lines;
    if (!m_latest.empty()) {
        const int rows = m_overlayTopK ? std::min<int>(kOverlayTopK, int(m_latest.size())) : 1;
        for (int i = 0; i < rows; ++i)
            lines << QString::fromStdString(m_latest[size_t(i)].label) + "  " +
                         ui::formatPercent(m_latest[size_t(i)].probability);
    }
    const auto fps = [](double rate) { return rate < 0 ? QStringLiteral("–") : QString::number(rate, 'f', 0); };
    if (m_camera->isPaused())
        lines << tr("paused");
    else if (m_endNote.isEmpty())
        lines << tr("%1 fps · model %2 fps").arg(fps(m_display.perSecond()), fps(m_classified.perSecond()));
    if (!m_endNote.isEmpty())
        lines << m_endNote;
    m_window->imageView()->setOverlay(lines);
}

void LiveController::onStopped(quint64 session, const QString& reason, bool error)
{
    if (session != m_session)
        return;   // an older session, already replaced
    m_session = 0;
    m_window->setCameraActive(false);
    if (error) {
        m_shownSession = 0;
        m_window->imageView()->setOverlay({});
        m_window->showError(ui::ErrorTopic::Live, reason);
    } else if (m_shownSession) {
        // The end of a video is a state, not a passing message: the last frame stays with the last prediction, and
        // the overlay says it ended until something else is shown.
        m_endNote = tr("End of video");
        updateOverlay();
    }
    Q_EMIT statusChanged();
    Q_EMIT stopped(reason, error);
}

} // namespace efficientnet::desktop
