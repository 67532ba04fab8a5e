#pragma once
// Live mode as one feature (STYLE.md: one controller per feature): the capture session, the frames on screen at the
// source's rate, the newest prediction over them, pause/step/snapshot/loop, the rates in the status bar, and a clear
// state when the stream ends. It drives the window's view and predictions while a session is shown; results of
// stopped or replaced sessions are counted as stale and not shown.
#include <QObject>
#include <QString>
#include <vector>

#include "camera_controller.h"
#include "efficientnet/classifier.h"
#include "score_smoother.h"
#include "types.h"

namespace efficientnet::ui {
class MainWindow;
}

namespace efficientnet::desktop {

// A rate that follows the newest intervals: one over an exponential moving average of the intervals. (An average of
// instantaneous rates, 1/interval, overstates bursty ticks: results arriving 5 and 28 ms apart, 30 a second, read
// as 110 "fps"; the app showed 188 classified fps from a 30 fps video on a GPU.)
class RateMeter {
public:
    void tick(qint64 nowNs);
    double perSecond() const { return m_intervalNs > 0 ? 1e9 / m_intervalNs : -1; }   // -1 until two ticks
    void reset();

private:
    qint64 m_lastNs = 0;
    double m_intervalNs = -1;
};

class LiveController : public QObject {
    Q_OBJECT

public:
    LiveController(CameraController* camera, FrameSlot* frames, ui::MainWindow* window, QObject* parent = nullptr);

    void start(const QString& source, bool paceFiles);
    void stop();
    void setPaused(bool paused);
    void step();
    void setLoop(bool loop);
    void setOverlayTopK(bool on);
    void setSmoothing(bool on);
    bool snapshot(const QString& path, QString* error);   // the annotated frame on screen

    bool isRunning() const { return m_session != 0; }
    bool isShown() const { return m_shownSession != 0; }   // a session's frames are on screen (running or ended)
    double displayRate() const { return m_display.perSecond(); }
    double classifiedRate() const { return m_classified.perSecond(); }
    // Another model is in use: its rate is measured afresh (the pause while it loaded is not one of its intervals),
    // and smoothing starts afresh (the last model's scores, by class index, would name its classes under the new one).
    void modelChanged();
    quint64 framesDisplayed() const { return m_framesDisplayed; }
    quint64 staleResults() const { return m_staleResults; }
    const std::vector<Prediction>& latestPredictions() const { return m_latest; }
    QImage latestFrame() const { return isRunning() ? m_latestFrame : QImage(); }   // the newest frame painted

public Q_SLOTS:
    void onFrameClassified(const efficientnet::desktop::FrameResult& result);

Q_SIGNALS:
    void frameDisplayed(quint64 sequence);   // a captured frame was painted
    void frameShown(quint64 sequence);       // a classified frame's predictions are on screen
    void stopped(const QString& reason, bool error);
    void statusChanged();                    // rates, running state

private:
    void onDisplayReady();
    void onStopped(quint64 session, const QString& reason, bool error);
    void updateOverlay();

    CameraController* m_camera;
    FrameSlot* m_frames;
    ui::MainWindow* m_window;
    quint64 m_session = 0;       // running now; 0 when off
    quint64 m_shownSession = 0;  // whose frames and results are shown: the last session, until the user stops it
    quint64 m_lastSequence = 0;
    quint64 m_framesDisplayed = 0;
    quint64 m_staleResults = 0;
    RateMeter m_display;
    RateMeter m_classified;
    std::vector<Prediction> m_latest;
    ScoreSmoother m_smoother;
    bool m_smoothing = false;
    bool m_overlayTopK = false;
    QImage m_latestFrame;
    QString m_endNote;           // "End of video": the overlay's last line once the stream ended
};

} // namespace efficientnet::desktop
