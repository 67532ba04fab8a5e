#pragma once
// The top-k list: one row per class with its label, a bar and the percentage. The bars scale to the top
// probability (so a flat 0.1 % top-5 still reads as five rows of bars) with a visible minimum; the top-1 row is bold.
// It holds up to kMaxTopK predictions and shows the first k, so changing k needs no new inference. Predictions from
// an older model can be marked as such until the new answer arrives.
#include <QVector>
#include <QWidget>

class QLabel;
class QSpinBox;

namespace efficientnet::ui {

struct PredictionRow {
    QString label;
    int index = -1;
    double probability = 0;   // 0..1
};

// "42.3 %", "0.1 %", "< 0.1 %": one decimal everywhere in the app (predictions, overlay, gallery).
QString formatPercent(double probability);

class PredictionBars;

class PredictionsPanel : public QWidget {
    Q_OBJECT

public:
    static constexpr int kMaxTopK = 20;
    static constexpr int kDefaultTopK = 5;

    explicit PredictionsPanel(QWidget* parent = nullptr);

    void setPredictions(const QVector<PredictionRow>& predictions);
    // The rows shown were computed by another model than the current one: `note` says so (e.g. "From
    // efficientnet_b0 — classifying again with efficientnet_b3…") and the rows are dimmed; empty: current.
    void setStale(const QString& note);
    void clear();
    void setTopK(int k);
    int topK() const;

    // What the rows show (for the tests and for accessibility tools).
    int visibleRows() const;
    QString labelText(int row) const;
    QString percentText(int row) const;
    int barPermille(int row) const;   // the bar's length, per mille of the longest (the top-1's)
    int barPixels(int row) const;     // the bar's painted length at the panel's present width
    QString staleText() const;        // empty when current
    bool rowIsEmphasised(int row) const;

Q_SIGNALS:
    void topKChanged(int k);

private:
    void refresh();

    QVector<PredictionRow> m_predictions;
    QSpinBox* m_topK;
    QLabel* m_empty;
    QLabel* m_stale;
    PredictionBars* m_bars;
};

} // namespace efficientnet::ui
