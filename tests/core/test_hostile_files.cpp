// Hostile files (tests/hostile/make_hostile.py, one or more per class of attack in issue 9) are refused by the
// reader that meets them with the error type of that reader, a message that starts with the file and names the
// problem, and no raw control character; no other exception type escapes. Run under ASan/UBSan too (the
// sanitizer build), where a silent over-read or a leak fails the test.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <cstdio>
#include <functional>

#include "efficientnet/checkpoint.h"
#include "efficientnet/download.h"
#include "efficientnet/errors.h"
#include "efficientnet/imaging.h"
#include "efficientnet/limits.h"
#include "efficientnet/printable.h"
#include "common/untrusted.h"   // white-box: the JSON bound itself

using namespace efficientnet;

Q_DECLARE_METATYPE(std::string)

namespace {

std::string hostilePath(const std::string& name) { return std::string(EFFICIENTNET_HOSTILE_DIR) + "/" + name; }

enum class Reader { Checkpoint, Image, Registry };

// The message of the reader's own error type; anything else (c10::Error, std::bad_alloc, a json exception) is a
// failure of the test, as it would reach the user unexplained.
std::string refusal(Reader reader, const std::string& path)
{
    try {
        switch (reader) {
        case Reader::Checkpoint: readCheckpoint(path); break;
        case Reader::Image: decodeImageFile(path); break;
        case Reader::Registry:
#ifdef EFFICIENTNET_HAVE_DOWNLOAD
            readWeightsRegistry(path);
#else
            throw ConfigError(path + ": skipped");
#endif
            break;
        }
    } catch (const CheckpointError& error) {
        return reader == Reader::Checkpoint ? error.what() : "wrong type: CheckpointError";
    } catch (const ImageError& error) {
        return reader == Reader::Image ? error.what() : "wrong type: ImageError";
    } catch (const ConfigError& error) {
        return reader == Reader::Registry ? error.what() : "wrong type: ConfigError";
    } catch (const std::exception& error) {
        return std::string("wrong type: ") + error.what();
    }
    return "accepted";
}

bool hasRawControl(const std::string& text)
{
    for (const char c : text)
        if ((static_cast<unsigned char>(c) < 0x20) || c == 0x7f)
            return true;
    return false;
}

} // namespace

class TestHostileFiles : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void refusedWithTheFileAndTheProblem_data()
    {
        QTest::addColumn<int>("reader");
        QTest::addColumn<std::string>("file");
        QTest::addColumn<QString>("problem");
        const auto row = [](const char* name, Reader reader, const char* file, const char* problem) {
            QTest::newRow(name) << static_cast<int>(reader) << hostilePath(file) << QString(problem);
        };
        // 1. deep JSON: refused while parsing, no recursion
        row("deep shape", Reader::Checkpoint, "deep_json_shape.safetensors", "deeper than 64 levels");
        row("deep metadata", Reader::Checkpoint, "deep_json_metadata.safetensors", "deeper than 64 levels");
        row("deep registry", Reader::Registry, "deep_json_registry.json", "deeper than 64 levels");
        // 2. one storage, two dtypes (the over-read): refused when the storages are indexed
        row("dtype twice", Reader::Checkpoint, "legacy_dtype_twice.pth", "declared as both Float and Double");
        // 3. sizes whose product overflows with a 0 dimension: the reader's error, not LibTorch's
        row("impossible sizes legacy", Reader::Checkpoint, "impossible_sizes_legacy.pth", "impossible size");
        row("impossible sizes zip", Reader::Checkpoint, "impossible_sizes.pth", "impossible size");
        // 4. a memoised 200 kB key reused 20,000 times: parsed without copies, then refused for what it is
        row("memo keys", Reader::Checkpoint, "memo_string_keys.pth", "not a state_dict");
        // 5. zip bombs: refused from the central directory, before anything is inflated
        row("bomb storage", Reader::Checkpoint, "zip_bomb_storage.pth", "zip bomb");
        row("bomb pickle", Reader::Checkpoint, "zip_bomb_pickle.pth", "zip bomb");
        // 6. gigapixel headers: refused from the header, before decoding
        for (const char* file : {"huge_dims.jpg", "huge_dims.png", "huge_dims.bmp", "huge_dims.webp", "huge_dims.tif",
                                 "huge_dims.ppm"})
            row(file, Reader::Image, file, "image too large");
        // 7. escape sequences in names and globals: quoted escaped
        row("escaped dtype", Reader::Checkpoint, "escape_dtype.safetensors", "\\x1b]0;pwned\\x07");
        row("escaped global", Reader::Checkpoint, "escape_global.pth", "refuses to load");
        // found by fuzzing (docs/ROBUSTNESS.md): a registry version no integer type holds
        row("huge version", Reader::Registry, "huge_version_registry.json", "'version' must be 1");
    }

    void refusedWithTheFileAndTheProblem()
    {
        QFETCH(int, reader);
        QFETCH(std::string, file);
        QFETCH(QString, problem);
#ifndef EFFICIENTNET_HAVE_DOWNLOAD
        if (static_cast<Reader>(reader) == Reader::Registry)
            QSKIP("built without the weights download: there is no registry reader");
#endif
        const std::string message = refusal(static_cast<Reader>(reader), file);
        QVERIFY2(message.rfind(file + ": ", 0) == 0, message.c_str());
        QVERIFY2(QString::fromStdString(message).contains(problem), message.c_str());
        QVERIFY2(!hasRawControl(message), message.c_str());
    }

    void escapedNamesKeepTheirTextVisible()
    {
        // The right-to-left override and the escape sequences are shown as escapes; the readable part stays.
        const std::string message = refusal(Reader::Checkpoint, hostilePath("escape_dtype.safetensors"));
        QVERIFY2(message.find("\\u{202e}") != std::string::npos, message.c_str());
        QVERIFY2(message.find("features") != std::string::npos, message.c_str());
        QVERIFY2(message.find("\\nfake line") != std::string::npos, message.c_str());
    }

    void jsonNestingIsBoundedExactlyAtTheLimit()
    {
        const auto nested = [](int depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); };
        std::string problem;
        QVERIFY(parseUntrustedJson(nested(kMaxJsonDepth), problem));
        QVERIFY(!parseUntrustedJson(nested(kMaxJsonDepth + 1), problem));
        QVERIFY2(QString::fromStdString(problem).contains("deeper than 64"), problem.c_str());
        QVERIFY(!parseUntrustedJson("{\"a\": [1, 2", problem));
        QVERIFY2(QString::fromStdString(problem).startsWith("is not valid JSON"), problem.c_str());
        QCOMPARE(describeJson(nlohmann::json::parse(nested(3))), std::string("a list of 1 value"));
        QCOMPARE(describeJson(nlohmann::json("\x1b[2J")), std::string("\"\\x1b[2J\""));
    }

    void printableEscapesOnlyWhatATerminalWouldInterpret()
    {
        QCOMPARE(printable("plain name.weight"), std::string("plain name.weight"));
        QCOMPARE(printable("caf\xc3\xa9 \xe7\x8c\xab"), std::string("caf\xc3\xa9 \xe7\x8c\xab"));   // UTF-8 stays
        QCOMPARE(printable("C:\\Users\\x"), std::string("C:\\Users\\x"));                         // so do backslashes
        QCOMPARE(printable("a\x1b[2Jb"), std::string("a\\x1b[2Jb"));
        QCOMPARE(printable("\xff\xfe"), std::string("\\xff\\xfe"));                                 // not UTF-8
        QCOMPARE(printable("\xc0\xaf"), std::string("\\xc0\\xaf"));                                 // overlong '/'
        QCOMPARE(printable("\xed\xa0\x80"), std::string("\\xed\\xa0\\x80"));                        // a surrogate
        QCOMPARE(printable("\xc2\x9b" "31m"), std::string("\\u{9b}31m"));                           // C1 CSI
        QCOMPARE(printable("x\xe2\x80\xaey"), std::string("x\\u{202e}y"));                          // RLO
        QCOMPARE(printable(std::string(10, 'a'), 4), std::string("aaaa... (6 more bytes)"));
        QCOMPARE(printable(printable("a\x1b" "b")), printable("a\x1b" "b"));                        // idempotent
    }
};

QTEST_GUILESS_MAIN(TestHostileFiles)
#include "test_hostile_files.moc"
