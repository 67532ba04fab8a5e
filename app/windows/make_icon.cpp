// make_icon SVG ICO: rasterises the app icon's SVG (resources/icons/efficientnet-libtorch.svg) into a Windows .ico
// at the sizes the shell asks for, at build time. The SVG stays the one source of the icon; nothing generated is
// committed, and no image library is needed (the build must not depend on one just for this).
//
// It reads the SVG subset that icon uses and refuses anything else, so that an edit the rasteriser cannot draw fails
// the build instead of producing a wrong icon: <svg width height>, <rect x y width height rx fill>,
// <circle cx cy r fill stroke stroke-width>, <line x1 y1 x2 y2 stroke stroke-width stroke-linecap>, colours #rrggbb
// or none, painted in document order. Edges are antialiased by 8x8 supersampling.
//
// ICO layout (Microsoft's "Icons" documentation, ICONDIR/ICONDIRENTRY): a 6-byte header, a 16-byte entry per image,
// then the images as 32-bit BMP (BITMAPINFOHEADER with twice the height, BGRA rows bottom-up, then a 1-bit AND mask).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int kSizes[] = {16, 20, 24, 32, 40, 48, 64, 256};   // small icons at 100-250 % scaling, then jumbo
constexpr int kSupersampling = 8;                              // samples per pixel along each axis
constexpr std::size_t kIconDirBytes = 6;
constexpr std::size_t kIconEntryBytes = 16;
constexpr std::uint32_t kBitmapInfoHeaderBytes = 40;
constexpr int kBitsPerPixel = 32;
constexpr int kLargestByteSize = 256;   // ICONDIRENTRY stores 256 as 0

struct Rgba {
    double r = 0, g = 0, b = 0, a = 0;
};

std::optional<Rgba> parseColour(const std::string& text)
{
    if (text == "none")
        return std::nullopt;
    static const std::regex hex("#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})");
    std::smatch m;
    if (!std::regex_match(text, m, hex))
        throw std::runtime_error("colour '" + text + "' is not #rrggbb or none");
    const auto channel = [&](int i) { return std::stoi(m[i].str(), nullptr, 16) / 255.0; };
    return Rgba{channel(1), channel(2), channel(3), 1.0};
}

using Attributes = std::map<std::string, std::string>;

struct Shape {
    std::string kind;
    Attributes attributes;

    double number(const std::string& name, std::optional<double> fallback = std::nullopt) const
    {
        const auto it = attributes.find(name);
        if (it == attributes.end()) {
            if (fallback)
                return *fallback;
            throw std::runtime_error("<" + kind + "> needs " + name);
        }
        return std::stod(it->second);
    }
    std::optional<Rgba> colour(const std::string& name, const std::string& fallback) const
    {
        const auto it = attributes.find(name);
        return parseColour(it == attributes.end() ? fallback : it->second);
    }
};

Attributes parseAttributes(const std::string& text, const std::string& element, const std::set<std::string>& allowed)
{
    static const std::regex attribute(R"(([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*"([^"]*)\")");
    Attributes attributes;
    for (std::sregex_iterator it(text.begin(), text.end(), attribute), end; it != end; ++it) {
        const std::string name = (*it)[1].str();
        if (!allowed.count(name))
            throw std::runtime_error("<" + element + "> attribute '" + name + "' is not supported by make_icon");
        attributes[name] = (*it)[2].str();
    }
    return attributes;
}

struct Drawing {
    double width = 0, height = 0;
    std::vector<Shape> shapes;
};

Drawing parseSvg(const std::string& svg)
{
    static const std::map<std::string, std::set<std::string>> kAllowed{
        {"svg", {"xmlns", "width", "height", "viewBox"}},
        {"rect", {"x", "y", "width", "height", "rx", "fill"}},
        {"circle", {"cx", "cy", "r", "fill", "stroke", "stroke-width"}},
        {"line", {"x1", "y1", "x2", "y2", "stroke", "stroke-width", "stroke-linecap"}},
    };
    // Comments and the XML declaration are skipped; every other element must be one of the above.
    const std::string text = std::regex_replace(svg, std::regex(R"(<!--[\s\S]*?-->|<\?[\s\S]*?\?>)"), "");
    static const std::regex element(R"(<\s*(/?)\s*([A-Za-z]+)([^>]*)>)");
    Drawing drawing;
    for (std::sregex_iterator it(text.begin(), text.end(), element), end; it != end; ++it) {
        if ((*it)[1].matched && (*it)[1].length() > 0)
            continue;   // a closing tag
        const std::string name = (*it)[2].str();
        const auto allowed = kAllowed.find(name);
        if (allowed == kAllowed.end())
            throw std::runtime_error("element <" + name + "> is not supported by make_icon");
        Shape shape{name, parseAttributes((*it)[3].str(), name, allowed->second)};
        if (name == "svg") {
            drawing.width = shape.number("width");
            drawing.height = shape.number("height");
        } else {
            drawing.shapes.push_back(std::move(shape));
        }
    }
    if (drawing.width <= 0 || drawing.height <= 0)
        throw std::runtime_error("<svg> needs a positive width and height");
    return drawing;
}

// A shape with its numbers read once: rasterising asks every shape about every sample.
struct Prepared {
    enum class Kind { Rect, Circle, Line } kind;
    double a = 0, b = 0, c = 0, d = 0, radius = 0;   // rect: x y w h rx; circle: cx cy r; line: x1 y1 x2 y2
    std::optional<Rgba> fill, stroke;
    double halfWidth = 0;
    enum class Cap { Butt, Round, Square } cap = Cap::Butt;
};

Prepared prepare(const Shape& s)
{
    Prepared p{};
    if (s.kind == "rect") {
        p.kind = Prepared::Kind::Rect;
        p.a = s.number("x", 0.0);
        p.b = s.number("y", 0.0);
        p.c = s.number("width");
        p.d = s.number("height");
        p.radius = std::min({s.number("rx", 0.0), p.c / 2, p.d / 2});
        p.fill = s.colour("fill", "#000000");
    } else if (s.kind == "circle") {
        p.kind = Prepared::Kind::Circle;
        p.a = s.number("cx");
        p.b = s.number("cy");
        p.radius = s.number("r");
        p.fill = s.colour("fill", "#000000");
        p.stroke = s.colour("stroke", "none");
        p.halfWidth = s.number("stroke-width", 1.0) / 2;
    } else {
        p.kind = Prepared::Kind::Line;
        p.a = s.number("x1");
        p.b = s.number("y1");
        p.c = s.number("x2");
        p.d = s.number("y2");
        p.stroke = s.colour("stroke", "none");
        p.halfWidth = s.number("stroke-width", 1.0) / 2;
        const auto cap = s.attributes.count("stroke-linecap") ? s.attributes.at("stroke-linecap") : std::string("butt");
        if (cap == "round")
            p.cap = Prepared::Cap::Round;
        else if (cap == "square")
            p.cap = Prepared::Cap::Square;
        else if (cap != "butt")
            throw std::runtime_error("stroke-linecap '" + cap + "' is not supported by make_icon");
    }
    return p;
}

// The colour painted at one point by one shape, if any (fill first, the stroke over it).
std::optional<Rgba> paint(const Prepared& s, double x, double y)
{
    switch (s.kind) {
    case Prepared::Kind::Rect: {
        const double r = s.radius;
        const double cx = std::clamp(x, s.a + r, s.a + s.c - r), cy = std::clamp(y, s.b + r, s.b + s.d - r);
        const bool inside = x >= s.a && x <= s.a + s.c && y >= s.b && y <= s.b + s.d && std::hypot(x - cx, y - cy) <= r;
        return inside ? s.fill : std::nullopt;
    }
    case Prepared::Kind::Circle: {
        const double d = std::hypot(x - s.a, y - s.b);
        std::optional<Rgba> colour;
        if (d <= s.radius)
            colour = s.fill;
        if (s.stroke && std::abs(d - s.radius) <= s.halfWidth)
            colour = s.stroke;
        return colour;
    }
    case Prepared::Kind::Line:
        break;
    }
    const double dx = s.c - s.a, dy = s.d - s.b;
    const double length = std::hypot(dx, dy);
    const double along = length > 0 ? ((x - s.a) * dx + (y - s.b) * dy) / length : 0;   // from the start
    const double across = length > 0 ? std::abs((x - s.a) * dy - (y - s.b) * dx) / length : std::hypot(x - s.a, y - s.b);
    bool inside = false;
    if (s.cap == Prepared::Cap::Round) {
        const double t = std::clamp(along, 0.0, length);
        inside = std::hypot(x - (s.a + (length > 0 ? t / length * dx : 0)), y - (s.b + (length > 0 ? t / length * dy : 0))) <=
                 s.halfWidth;
    } else {
        const double extend = s.cap == Prepared::Cap::Square ? s.halfWidth : 0.0;
        inside = along >= -extend && along <= length + extend && across <= s.halfWidth;
    }
    return inside ? s.stroke : std::nullopt;
}

// size x size straight-alpha BGRA pixels, top row first.
std::vector<std::uint8_t> rasterise(const Drawing& drawing, int size)
{
    std::vector<Prepared> shapes;
    for (const auto& shape : drawing.shapes)
        shapes.push_back(prepare(shape));
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(size) * size * 4);
    const double scaleX = drawing.width / size, scaleY = drawing.height / size;
    for (int py = 0; py < size; ++py) {
        for (int px = 0; px < size; ++px) {
            Rgba sum;   // premultiplied
            for (int sy = 0; sy < kSupersampling; ++sy) {
                for (int sx = 0; sx < kSupersampling; ++sx) {
                    const double x = (px + (sx + 0.5) / kSupersampling) * scaleX;
                    const double y = (py + (sy + 0.5) / kSupersampling) * scaleY;
                    std::optional<Rgba> colour;
                    for (const auto& shape : shapes)
                        if (auto painted = paint(shape, x, y))
                            colour = painted;   // opaque colours: the last shape painting here wins
                    if (colour) {
                        sum.r += colour->r;
                        sum.g += colour->g;
                        sum.b += colour->b;
                        sum.a += 1;
                    }
                }
            }
            const double samples = kSupersampling * kSupersampling;
            std::uint8_t* out = &pixels[(static_cast<std::size_t>(py) * size + px) * 4];
            const auto byte = [](double v) { return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255)); };
            out[0] = byte(sum.a > 0 ? sum.b / sum.a : 0);
            out[1] = byte(sum.a > 0 ? sum.g / sum.a : 0);
            out[2] = byte(sum.a > 0 ? sum.r / sum.a : 0);
            out[3] = byte(sum.a / samples);
        }
    }
    return pixels;
}

void put16(std::vector<std::uint8_t>& out, std::uint32_t v)
{
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v)
{
    put16(out, v & 0xffff);
    put16(out, v >> 16);
}

// One icon image: BITMAPINFOHEADER (height doubled: colour rows, then the AND mask), bottom-up rows.
std::vector<std::uint8_t> bmpImage(const std::vector<std::uint8_t>& bgra, int size)
{
    const std::uint32_t maskRowBytes = ((size + 31) / 32) * 4;   // 1 bit per pixel, rows padded to 32 bits
    const std::uint32_t colourBytes = static_cast<std::uint32_t>(size) * size * 4;
    std::vector<std::uint8_t> out;
    put32(out, kBitmapInfoHeaderBytes);
    put32(out, static_cast<std::uint32_t>(size));
    put32(out, static_cast<std::uint32_t>(size) * 2);
    put16(out, 1);              // planes
    put16(out, kBitsPerPixel);
    put32(out, 0);              // BI_RGB
    put32(out, colourBytes + maskRowBytes * size);
    for (int i = 0; i < 4; ++i)
        put32(out, 0);          // resolution and palette: unused
    for (int row = size - 1; row >= 0; --row)
        out.insert(out.end(), bgra.begin() + row * size * 4, bgra.begin() + (row + 1) * size * 4);
    for (int row = size - 1; row >= 0; --row) {
        std::vector<std::uint8_t> mask(maskRowBytes, 0);
        for (int x = 0; x < size; ++x)
            if (bgra[(static_cast<std::size_t>(row) * size + x) * 4 + 3] == 0)
                mask[x / 8] |= static_cast<std::uint8_t>(0x80 >> (x % 8));   // 1: transparent
        out.insert(out.end(), mask.begin(), mask.end());
    }
    return out;
}

std::vector<std::uint8_t> icoFile(const Drawing& drawing)
{
    std::vector<std::vector<std::uint8_t>> images;
    for (const int size : kSizes)
        images.push_back(bmpImage(rasterise(drawing, size), size));
    std::vector<std::uint8_t> out;
    put16(out, 0);   // reserved
    put16(out, 1);   // type: icon
    put16(out, static_cast<std::uint32_t>(images.size()));
    std::uint32_t offset = static_cast<std::uint32_t>(kIconDirBytes + kIconEntryBytes * images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
        const int size = kSizes[i];
        out.push_back(static_cast<std::uint8_t>(size == kLargestByteSize ? 0 : size));
        out.push_back(static_cast<std::uint8_t>(size == kLargestByteSize ? 0 : size));
        out.push_back(0);   // colours in the palette: none
        out.push_back(0);   // reserved
        put16(out, 1);      // planes
        put16(out, kBitsPerPixel);
        put32(out, static_cast<std::uint32_t>(images[i].size()));
        put32(out, offset);
        offset += static_cast<std::uint32_t>(images[i].size());
    }
    for (const auto& image : images)
        out.insert(out.end(), image.begin(), image.end());
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::cerr << "usage: make_icon ICON.svg ICON.ico\n";
        return 1;
    }
    try {
        std::ifstream in(argv[1], std::ios::binary);
        if (!in)
            throw std::runtime_error("cannot read it");
        const std::string svg{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        const auto ico = icoFile(parseSvg(svg));
        std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(ico.data()), static_cast<std::streamsize>(ico.size()));
        if (!out.flush())
            throw std::runtime_error(std::string("cannot write ") + argv[2]);
    } catch (const std::exception& e) {
        std::cerr << "make_icon: " << argv[1] << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
