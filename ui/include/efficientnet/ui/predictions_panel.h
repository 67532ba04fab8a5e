#pragma once
// The top-k list: one row per class with its label, a probability bar and the percentage. It holds up to
// kMaxTopK predictions and shows the first k, so changing k needs no new inference.
#include <QVector>
#include <QWidget>

class QGridLayout;
class QLabel;
class QProgressBar;
class QSpinBox;

namespace efficientnet::ui {

struct PredictionRow {
    QString label;
    int index = -1;
    double probability = 0;   // 0..1
};

class PredictionsPanel : public QWidget {
    Q_OBJECT

public:
    static constexpr int kMaxTopK = 20;
    static constexpr int kDefaultTopK = 5;

    explicit PredictionsPanel(QWidget* parent = nullptr);

    void setPredictions(const QVector<PredictionRow>& predictions);
    void clear();
    void setTopK(int k);
    int topK() const;

    // What the rows show (for the tests and for accessibility tools).
    int visibleRows() const;
    QString labelText(int row) const;
    QString percentText(int row) const;
    int barPermille(int row) const;

Q_SIGNALS:
    void topKChanged(int k);

private:
    struct Row {
        QLabel* label;
        QProgressBar* bar;
        QLabel* percent;
    };
    void refresh();

    QVector<PredictionRow> m_predictions;
    QVector<Row> m_rows;
    QSpinBox* m_topK;
    QLabel* m_empty;
};

} // namespace efficientnet::ui
