// The checkpoint readers return exactly the tensors the reference implementation saved, in every supported format
// (torch.save zip, legacy, nested training checkpoints, safetensors fp32/fp16/bf16), refuse pickles that would run
// code without running them, reject truncated and hostile files with a message naming the file and the problem,
// and write safetensors that read back bit for bit.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "efficientnet/checkpoint.h"
#include "efficientnet/errors.h"
#include "test_support.h"

using namespace efficientnet;
using efficientnet::test::referencePath;

Q_DECLARE_METATYPE(std::string)

namespace {

constexpr int kB0StateDictEntries = 360;   // REFERENCE.md

std::map<std::string, torch::Tensor> byName(const NamedTensors& tensors)
{
    return {tensors.begin(), tensors.end()};
}

// Same dtype, shape and bytes (so NaN payloads and -0.0 count as differences too).
bool bitwiseEqual(const torch::Tensor& a, const torch::Tensor& b)
{
    if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes())
        return false;
    const auto left = a.contiguous();
    const auto right = b.contiguous();
    // memcmp must not see the null pointers of empty tensors (UBSan: nonnull argument), even for zero bytes.
    return left.nbytes() == 0 || std::memcmp(left.data_ptr(), right.data_ptr(), left.nbytes()) == 0;
}

// The CheckpointError message readCheckpoint-like calls throw, or "" when they do not throw one.
template <typename Call>
std::string checkpointErrorOf(Call&& call)
{
    try {
        call();
    } catch (const CheckpointError& error) {
        return error.what();
    }
    return {};
}

std::vector<char> readBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeBytes(const std::string& path, const char* data, size_t size)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data, static_cast<std::streamsize>(size));
}

} // namespace

class TestCheckpoint : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void zipStateDictHasTorchvisionEntries()
    {
        const NamedTensors tensors = readCheckpoint(referencePath("efficientnet_b0.pth"));
        QCOMPARE(static_cast<int>(tensors.size()), kB0StateDictEntries);
        // state_dict order, as torchvision's module registration makes it.
        QCOMPARE(tensors.front().first, std::string("features.0.0.weight"));
        QCOMPARE(tensors.back().first, std::string("classifier.1.bias"));
        const auto named = byName(tensors);
        QCOMPARE(named.at("features.0.0.weight").sizes().vec(), (std::vector<int64_t>{32, 3, 3, 3}));
        QCOMPARE(named.at("classifier.1.weight").sizes().vec(), (std::vector<int64_t>{1000, 1280}));
        QCOMPARE(named.at("features.1.0.block.1.fc1.weight").sizes().vec(), (std::vector<int64_t>{8, 32, 1, 1}));
        for (const auto& [name, tensor] : tensors) {
            const bool counter = name.find("num_batches_tracked") != std::string::npos;
            QVERIFY2(tensor.scalar_type() == (counter ? torch::kLong : torch::kFloat), name.c_str());
            QVERIFY2(!counter || tensor.dim() == 0, name.c_str());
        }
    }

    void otherFormatsEqualTheZip_data()
    {
        QTest::addColumn<std::string>("file");
        QTest::newRow("safetensors") << std::string("efficientnet_b0.safetensors");
        QTest::newRow("legacy") << std::string("efficientnet_b0.legacy.pth");
        QTest::newRow("nested training checkpoint") << std::string("efficientnet_b0.nested.pth");
    }

    void otherFormatsEqualTheZip()
    {
        QFETCH(std::string, file);
        const auto expected = byName(readCheckpoint(referencePath("efficientnet_b0.pth")));
        const auto actual = byName(readCheckpoint(referencePath(file)));
        QCOMPARE(actual.size(), expected.size());
        for (const auto& [name, tensor] : expected) {
            QVERIFY2(actual.count(name), name.c_str());
            QVERIFY2(bitwiseEqual(actual.at(name), tensor), name.c_str());
        }
    }

    void reducedPrecisionSafetensorsKeepTheirDtype_data()
    {
        QTest::addColumn<std::string>("file");
        QTest::addColumn<int>("dtype");
        QTest::newRow("fp16") << std::string("efficientnet_b0.fp16.safetensors") << int(torch::kHalf);
        QTest::newRow("bf16") << std::string("efficientnet_b0.bf16.safetensors") << int(torch::kBFloat16);
    }

    void reducedPrecisionSafetensorsKeepTheirDtype()
    {
        QFETCH(std::string, file);
        QFETCH(int, dtype);
        const auto reduced = static_cast<torch::ScalarType>(dtype);
        const auto fp32 = byName(readCheckpoint(referencePath("efficientnet_b0.pth")));
        const auto actual = byName(readCheckpoint(referencePath(file)));
        QCOMPARE(actual.size(), fp32.size());
        for (const auto& [name, tensor] : fp32) {
            // Floating-point weights are the fp32 values rounded to the file's dtype; integer counters stay int64.
            const auto expected = tensor.is_floating_point() ? tensor.to(reduced) : tensor;
            QVERIFY2(actual.count(name) && bitwiseEqual(actual.at(name), expected), name.c_str());
        }
    }

    void formatIsDetectedFromTheContent_data()
    {
        QTest::addColumn<std::string>("file");
        QTest::addColumn<int>("format");
        QTest::newRow("zip") << std::string("efficientnet_b0.pth") << int(CheckpointFormat::TorchZip);
        QTest::newRow("legacy") << std::string("efficientnet_b0.legacy.pth") << int(CheckpointFormat::TorchLegacy);
        QTest::newRow("safetensors") << std::string("efficientnet_b0.safetensors")
                                     << int(CheckpointFormat::Safetensors);
        QTest::newRow("hostile safetensors") << std::string("huge_header.safetensors")
                                             << int(CheckpointFormat::Safetensors);
    }

    void formatIsDetectedFromTheContent()
    {
        QFETCH(std::string, file);
        QFETCH(int, format);
        QCOMPARE(int(detectCheckpointFormat(referencePath(file))), format);
    }

    void codeExecutingPicklesAreRefused_data()
    {
        QTest::addColumn<std::string>("file");
        QTest::addColumn<QString>("global");
        QTest::newRow("os.system") << std::string("malicious_system.pth") << QString("os.system");
        QTest::newRow("builtins.eval") << std::string("malicious_eval.pth") << QString("builtins.eval");
    }

    void codeExecutingPicklesAreRefused()
    {
        QFETCH(std::string, file);
        QFETCH(QString, global);
        const std::string pwned = referencePath("PWNED");
        QVERIFY2(!std::filesystem::exists(pwned), "PWNED exists before the test: remove it");
        const QString message = QString::fromStdString(checkpointErrorOf([&] { readCheckpoint(referencePath(file)); }));
        QVERIFY2(message.contains(QString::fromStdString(file)), qPrintable(message));
        QVERIFY2(message.contains(global), qPrintable(message));
        QVERIFY2(message.contains("could execute code"), qPrintable(message));
        QVERIFY2(!std::filesystem::exists(pwned), "the pickle's code ran");
    }

    void badFilesAreRejectedWithTheProblem_data()
    {
        QTest::addColumn<std::string>("file");
        QTest::addColumn<QString>("problem");
        QTest::newRow("truncated zip") << std::string("truncated.pth") << QString("truncated");
        QTest::newRow("text file") << std::string("not_a_checkpoint.pth") << QString("not a checkpoint");
        QTest::newRow("offset past the end") << std::string("bad_offsets.safetensors")
                                             << QString("past the end of the data");
        QTest::newRow("overlapping tensors") << std::string("overlap.safetensors") << QString("overlap");
        QTest::newRow("header larger than the file") << std::string("huge_header.safetensors")
                                                     << QString("header length");
        QTest::newRow("shape does not fit the bytes") << std::string("size_mismatch.safetensors")
                                                      << QString("shape [2, 4] of F32 needs 32 bytes but its data_offsets");
    }

    void badFilesAreRejectedWithTheProblem()
    {
        QFETCH(std::string, file);
        QFETCH(QString, problem);
        const QString message = QString::fromStdString(checkpointErrorOf([&] { readCheckpoint(referencePath(file)); }));
        QVERIFY2(message.contains(QString::fromStdString(referencePath(file))), qPrintable(message));
        QVERIFY2(message.contains(problem), qPrintable(message));
    }

    // Every read of the unpickler and of the storage section is bounds-checked: a legacy file cut anywhere (in a
    // pickle, in a GLOBAL line, in the storage data) is reported as truncated.
    void truncatedLegacyFilesAreReportedAsTruncated_data()
    {
        QTest::addColumn<size_t>("length");
        for (size_t length : {1, 5, 13, 40, 200, 1000, 5000, 30000, 3000000})
            QTest::newRow(std::to_string(length).c_str()) << length;
    }

    void truncatedLegacyFilesAreReportedAsTruncated()
    {
        QFETCH(size_t, length);
        const std::vector<char> legacy = readBytes(referencePath("efficientnet_b0.legacy.pth"));
        QVERIFY(legacy.size() > length);
        QTemporaryDir dir;
        const std::string path = dir.filePath("cut.pth").toStdString();
        writeBytes(path, legacy.data(), length);
        const QString message = QString::fromStdString(checkpointErrorOf([&] { readCheckpoint(path); }));
        QVERIFY2(message.contains("truncated"), qPrintable(message));
    }

    // Random corruption of the pickles either reads or fails with a CheckpointError: never a crash, never another
    // exception escaping (the fixed seed keeps the run reproducible).
    void corruptLegacyPicklesFailCleanly()
    {
        constexpr int kMutations = 150;
        constexpr size_t kPickleRegion = 65536;   // the main pickle of b0 ends before this
        const std::vector<char> legacy = readBytes(referencePath("efficientnet_b0.legacy.pth"));
        QVERIFY(legacy.size() > kPickleRegion);
        QTemporaryDir dir;
        const std::string path = dir.filePath("corrupt.pth").toStdString();
        std::mt19937 random(1234);
        int rejected = 0;
        for (int i = 0; i < kMutations; ++i) {
            std::vector<char> bytes = legacy;
            for (int flip = 0; flip < 3; ++flip)
                bytes[random() % kPickleRegion] = static_cast<char>(random());
            writeBytes(path, bytes.data(), bytes.size());
            try {
                readCheckpoint(path);
            } catch (const CheckpointError&) {
                ++rejected;
            } catch (const std::exception& other) {
                QFAIL(qPrintable(QString("mutation %1 threw a non-CheckpointError: %2").arg(i).arg(other.what())));
            }
        }
        QVERIFY(rejected > 0);
    }

    void safetensorsRoundTripIsBitExact()
    {
        torch::manual_seed(0);
        auto special = torch::randn({7});
        special[0] = std::numeric_limits<float>::quiet_NaN();
        special[1] = -0.0f;
        special[2] = std::numeric_limits<float>::infinity();
        const NamedTensors written = {
            {"f32.special", special},
            {"f64", torch::randn({3, 4}, torch::kDouble)},
            {"f16", torch::randn({5}).to(torch::kHalf)},
            {"bf16", torch::randn({2, 3}).to(torch::kBFloat16)},
            {"i64", torch::randint(-1000000, 1000000, {9}, torch::kLong)},
            {"i32", torch::randint(-1000, 1000, {3}, torch::kInt)},
            {"i16", torch::randint(-1000, 1000, {3}, torch::kShort)},
            {"i8", torch::randint(-100, 100, {3}, torch::kChar)},
            {"u8", torch::randint(0, 255, {3}, torch::kByte)},
            {"bool", torch::tensor({true, false, true})},
            {"scalar", torch::tensor(42, torch::kLong)},
            {"empty", torch::empty({0, 3})},
            {"transposed", torch::arange(12, torch::kFloat).reshape({3, 4}).t()},   // not contiguous
        };
        QTemporaryDir dir;
        const std::string path = dir.filePath("mixed.safetensors").toStdString();
        writeSafetensors(path, written, {{"source", "test"}});
        QVERIFY(!std::filesystem::exists(path + ".tmp"));
        QCOMPARE(int(detectCheckpointFormat(path)), int(CheckpointFormat::Safetensors));
        const auto read = byName(readCheckpoint(path));
        QCOMPARE(read.size(), written.size());
        for (const auto& [name, tensor] : written)
            QVERIFY2(read.count(name) && bitwiseEqual(read.at(name), tensor), name.c_str());
    }

    // A header length of 128 (+ k * 256) bytes makes the file start with 0x80, the pickle PROTO opcode that also
    // starts a legacy torch.save file.
    void safetensorsStartingLikeAPickleIsSafetensors()
    {
        constexpr size_t kHeaderLength = 128;
        std::string header = "{}";
        header.resize(kHeaderLength, ' ');
        std::string file(8, '\0');
        file[0] = static_cast<char>(kHeaderLength);
        file += header;
        QTemporaryDir dir;
        const std::string path = dir.filePath("pickle_like.safetensors").toStdString();
        writeBytes(path, file.data(), file.size());
        QCOMPARE(int(detectCheckpointFormat(path)), int(CheckpointFormat::Safetensors));
        QVERIFY(readCheckpoint(path).empty());
    }

    // The header is standard JSON with the reference's fields: Python's json module parses it.
    void writtenHeaderIsValidJsonForPython()
    {
        if (!QFileInfo::exists("/usr/bin/python3"))
            QSKIP("no /usr/bin/python3");
        QTemporaryDir dir;
        const std::string path = dir.filePath("header.safetensors").toStdString();
        writeSafetensors(path, {{"w", torch::ones({2, 2})}, {"n", torch::tensor(3, torch::kLong)}}, {{"k", "v"}});
        const char* script =
            "import json, struct, sys\n"
            "f = open(sys.argv[1], 'rb'); n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n))\n"
            "assert n % 8 == 0, n\n"
            "assert h['__metadata__'] == {'format': 'pt', 'k': 'v'}, h\n"
            "assert h['n'] == {'dtype': 'I64', 'shape': [], 'data_offsets': [0, 8]}, h\n"
            "assert h['w'] == {'dtype': 'F32', 'shape': [2, 2], 'data_offsets': [8, 24]}, h\n";
        QProcess python;
        python.start("/usr/bin/python3", {"-c", script, QString::fromStdString(path)});
        QVERIFY(python.waitForFinished(60000));
        QVERIFY2(python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0,
                 python.readAllStandardError().constData());
    }

    void writingToAMissingDirectoryThrowsAndLeavesNothing()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("missing/out.safetensors").toStdString();
        const std::string message = checkpointErrorOf([&] { writeSafetensors(path, {{"w", torch::ones({2})}}); });
        QVERIFY2(message.find(path) != std::string::npos, message.c_str());
        QVERIFY(!std::filesystem::exists(path) && !std::filesystem::exists(path + ".tmp"));
    }
};

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "test_checkpoint.moc"
