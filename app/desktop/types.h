#pragma once
// Value types that cross between the GUI, capture and inference threads (by queued signals). Nothing here is
// shared mutable state: each is copied or moved, and QImage is implicitly shared and reentrant.
#include <QImage>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <vector>

#include "efficientnet/classifier.h"

namespace efficientnet::desktop {

// What to load. Empty weights: the model's cached checkpoint; with none cached, random weights when
// randomIfNoWeights is set, else an error (and the previous model stays).
struct ModelConfig {
    QString model = QStringLiteral("efficientnet_b0");
    QString weights;
    bool randomWeights = false;
    bool randomIfNoWeights = false;
    QString device = QStringLiteral("auto");
    QString precision = QStringLiteral("auto");
    QString labelsFile;                 // class names given by hand (--labels); empty: the checkpoint's own
    QString imagenetLabelsFile;         // names for 1000-class heads without their own (resources/imagenet_classes.txt)
    bool modelIfItFits = false;         // weights the user picked: `model` if they fit it, else the network they fit
};

// What was loaded.
struct ModelInfo {
    ModelConfig config;         // as requested (weights filled in when found in the cache)
    QString model;              // torchvision name of the variant
    QString device;             // "cpu" or "cuda:0 (name)"
    QString precision;          // fp32 | fp16 | bf16
    QString weights;            // file and detected source, or "random (meaningless)"
    QString name;               // the model as loaded, e.g. "tf_efficientnetv2_s.in1k" or "efficientnet-b2"
    int classes = 1000;
    QString labelsOrigin;       // where the class names come from
    QString transform;          // the eval transform and where it comes from
    bool randomWeights = false;
    QString note;               // why random weights were used, when they were not asked for
};

// One file of a job (a drop, Open, a folder, a paste). index/count place it in the job.
struct FileResult {
    quint64 job = 0;
    int index = 0;
    int count = 0;
    QString path;
    std::vector<Prediction> predictions;
    QString error;              // empty: classified
    QImage image;               // for the view (empty on error)
    QImage thumbnail;           // for the gallery
    StageTimes times;
};

// One live frame's answer. The frame travels with its result so the view shows what was classified.
struct FrameResult {
    quint64 generation = 0;     // which camera session (start) it came from; older sessions' results are stale
    quint64 sequence = 0;       // capture order within the session
    qint64 capturedNs = 0;      // steady-clock time of capture
    QImage frame;
    std::vector<Prediction> predictions;
    QString error;
    StageTimes times;
};

// A Teach-mode training run (issue 14), done on the inference thread: the examples' folder (ImageFolder layout), the
// model to start from (the one in use), and where the checkpoint goes.
struct TeachRequest {
    quint64 id = 0;
    QString model;              // the base network (torchvision name)
    QString weights;            // its checkpoint; empty with randomBase
    bool randomBase = false;
    QString device = QStringLiteral("cpu");   // cpu | cuda
    QString dataDir;
    QString out;                // .safetensors
    int epochs = 10;
    QString scope = QStringLiteral("head");   // head | stages:N | all
    int side = 0;               // > 0: resize and crop to this side instead of the base's transform (tests: speed)
    quint64 seed = 0;
};

// One progress report. valAccuracy < 0: not evaluated (yet).
struct TeachProgress {
    enum class Phase { Reading, Features, Training, Evaluated };
    quint64 id = 0;
    Phase phase = Phase::Reading;
    int epoch = 0;
    int epochs = 0;
    int step = 0;
    int steps = 0;
    double loss = 0;
    double valAccuracy = -1;
};

// How a run ended. error set: it failed (nothing written). cancelledEarly: cancelled before an epoch ended (nothing
// written). cancelled: cancelled later, the best epoch so far written to `path`.
struct TeachResult {
    quint64 id = 0;
    QString path;
    QStringList classes;
    int trainImages = 0;
    int valImages = 0;
    QStringList skipped;        // "file: reason"
    int epochsDone = 0;
    int keptEpoch = 0;
    double keptAccuracy = -1;
    bool cancelled = false;
    bool cancelledEarly = false;
    QString error;
};

} // namespace efficientnet::desktop

Q_DECLARE_METATYPE(efficientnet::desktop::TeachRequest)
Q_DECLARE_METATYPE(efficientnet::desktop::TeachProgress)
Q_DECLARE_METATYPE(efficientnet::desktop::TeachResult)
Q_DECLARE_METATYPE(efficientnet::desktop::ModelConfig)
Q_DECLARE_METATYPE(efficientnet::desktop::ModelInfo)
Q_DECLARE_METATYPE(efficientnet::desktop::FileResult)
Q_DECLARE_METATYPE(efficientnet::desktop::FrameResult)
