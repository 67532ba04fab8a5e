#pragma once
// The model in use as one feature: what is loaded and what was asked for, the toolbar's model/device/precision
// choices, opened and dropped checkpoints, and the remedies the window offers when a choice cannot load (download
// the weights, switch to the network a checkpoint fits, try on random weights). One rule for a model without cached
// weights: at start the app runs it on random weights under a banner (a demo that runs beats one that refuses);
// chosen later, it is not loaded — the model in use stays, and the window offers the download, or random weights.
#include <QObject>
#include <QSet>
#include <QSettings>
#include <optional>

#include "download_controller.h"
#include "inference_controller.h"
#include "types.h"

namespace efficientnet::ui {
class MainWindow;
}

namespace efficientnet::desktop {

class ModelSession : public QObject {
    Q_OBJECT

public:
    ModelSession(InferenceController* inference, DownloadController* download, ui::MainWindow* window,
                 QSettings* settings, const ModelConfig& initial, QObject* parent = nullptr);

    void start();   // loads the initial configuration
    void chooseModel(const QString& model);
    void chooseDevice(const QString& device);
    void choosePrecision(const QString& precision);
    void loadWeights(const QString& path);
    void useRandomWeights(const QString& model);
    // A checkpoint Teach mode wrote: its own labels, network and transform, whatever --labels said.
    // onRandomFeatures: taught on top of random weights (randomFeatures() when training began), which the banner
    // then says, since the taught file itself is not random.
    void useTrainedWeights(const QString& path, bool onRandomFeatures = false);
    // The model in use computes features from random weights: random weights, or a model taught on top of them.
    bool randomFeatures() const;
    void downloadWeights();   // the offered download, else the current model's
    void cancelDownload();
    // Teach mode trains on the inference thread: a model, device or precision chosen meanwhile would wait behind the
    // run and then be replaced by the taught model. While it runs such choices are refused, saying why.
    void setTraining(bool running) { m_training = running; }

    const ModelInfo& current() const { return m_model; }
    bool hasModel() const { return !m_model.model.isEmpty(); }
    const ModelConfig& requested() const { return m_config; }

Q_SIGNALS:
    // A model is in use (a first one, or another one replacing `previous`, whose name is empty at first).
    void modelChanged(const efficientnet::desktop::ModelInfo& info, const QString& previous);

private:
    enum class Offer { None, Switch, RandomWeights };

    void load(const ModelConfig& config);
    void onLoaded(const ModelInfo& info);
    void onFailed(const QString& error, const ModelConfig& config);
    void offerMissingWeights(const ModelConfig& config);
    bool offerDownload(const QString& model, QString* why = nullptr);
    void withdrawDownloadOffer();
    QString howToGetWeights(const QString& model, bool offered, const QString& why) const;
    void onDownloadFinished(const QString& model, const QString& path, const QString& warning);
    void onDownloadFailed(const QString& model, const QString& error, bool cancelled);
    void offer(Offer kind, const QString& text, const QString& button, const ModelConfig& config);
    void clearOutcome();   // the last model action's error or offer goes
    bool refusedWhileTraining();   // true (the choosers back, the reason shown) while Teach trains
    void showLoadedChoices();      // the model, device and precision choosers show what is loaded

    InferenceController* m_inference;
    DownloadController* m_download;
    ui::MainWindow* m_window;
    QSettings* m_settings;
    ModelConfig m_config;        // what the next reload starts from
    ModelInfo m_model;           // what is loaded
    bool m_training = false;
    std::optional<WeightsOffer> m_downloadOffer;
    Offer m_offer = Offer::None;
    ModelConfig m_offeredConfig; // what accepting the offer bar loads
    QString m_mismatchWeights;   // set by weightsMismatch, for the failure that follows
    QString m_mismatchModel;
    bool m_weightsMissing = false;
    QSet<QString> m_taughtOnRandom;   // taught checkpoints whose features come from random weights
    QString m_gpuPrecision;      // fp16/bf16 set aside while on the CPU, restored when the GPU is chosen again
};

// A core message as the window says it: menus and boxes, not command-line options; one sentence ends before the next.
QString windowMessage(QString message);

} // namespace efficientnet::desktop
