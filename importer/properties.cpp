#include "importer/properties.h"

#include <cstdint>
#include <optional>

namespace mirror::importer {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// One physical line of the file and where it is.
struct NaturalLine {
  std::string_view text;  // without its terminator
  int number = 0;
};

std::vector<NaturalLine> split_lines(std::string_view text) {
  std::vector<NaturalLine> lines;
  size_t start = 0;
  int number = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    lines.push_back({text.substr(start, i - start), number++});
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;  // \r\n is one terminator
    start = i + 1;
  }
  if (start < text.size()) lines.push_back({text.substr(start), number});
  return lines;
}

size_t trailing_backslashes(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && s[s.size() - 1 - n] == '\\') ++n;
  return n;
}

// A logical line: natural lines joined at continuations, remembering which file line each part came
// from so that an error inside a continued value names the right line.
struct LogicalLine {
  std::string text;
  std::vector<std::pair<size_t, int>> parts;  // (offset in text, file line), ascending
  int line_at(size_t offset) const {
    int line = parts.front().second;
    for (const auto& [off, l] : parts) {
      if (off <= offset) line = l;
    }
    return line;
  }
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The four hex digits of a \uXXXX escape starting at `pos` (just after "\u"), if they are there.
std::optional<uint32_t> hex4(std::string_view s, size_t pos) {
  if (pos + 4 > s.size()) return std::nullopt;
  uint32_t v = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    const char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= static_cast<uint32_t>(c - 'A' + 10);
    else
      return std::nullopt;
  }
  return v;
}

struct Unescaped {
  std::string text;
  bool dropped_backslash = false;
};

// Java's loadConvert: resolves escapes in [begin, end) of the logical line.
Result<Unescaped, Problem> unescape(const LogicalLine& l, size_t begin, size_t end, std::string_view file,
                                    std::string_view what) {
  Unescaped out;
  const std::string_view s(l.text);
  auto bad_u = [&](size_t at, std::string message) {
    return fail(Problem{std::string(file), l.line_at(at), std::move(message),
                        "write \\u followed by exactly four hex digits (e.g. \\u00e9 for é), or \\\\u for a "
                        "literal backslash followed by u"});
  };
  for (size_t i = begin; i < end; ++i) {
    if (s[i] != '\\') {
      out.text += s[i];
      continue;
    }
    if (i + 1 >= end) break;  // a lone trailing backslash: Java drops it
    const char c = s[++i];
    switch (c) {
      case 't': out.text += '\t'; break;
      case 'n': out.text += '\n'; break;
      case 'r': out.text += '\r'; break;
      case 'f': out.text += '\f'; break;
      case 'u': {
        auto unit = hex4(s.substr(0, end), i + 1);
        if (!unit) {
          return bad_u(
              i, "malformed \\uXXXX escape in the " + std::string(what) + ": Java refuses to load this file");
        }
        i += 4;
        uint32_t cp = *unit;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // UTF-16 high surrogate: needs a \uDC00..\uDFFF after it
          std::optional<uint32_t> low;
          if (i + 2 < end && s[i + 1] == '\\' && s[i + 2] == 'u') low = hex4(s.substr(0, end), i + 3);
          if (!low || *low < 0xDC00 || *low > 0xDFFF) {
            return bad_u(i, "\\u escape in the " + std::string(what) +
                                " starts a UTF-16 surrogate pair that does not continue");
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
          i += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return bad_u(i, "\\u escape in the " + std::string(what) + " is half of a UTF-16 surrogate pair");
        }
        append_utf8(out.text, cp);
        break;
      }
      default:
        // "\x" is x. Escaping a separator, a comment character, a space or a backslash is what the
        // format is for; anything else (`\.`, `\d`, `\-`) probably meant a regex backslash.
        if (c != '\\' && c != '=' && c != ':' && c != '#' && c != '!' && c != ' ' && c != '"' && c != '\'')
          out.dropped_backslash = true;
        out.text += c;
    }
  }
  return out;
}

}  // namespace

Result<std::vector<Property>, Problem> parse_properties(std::string_view text, std::string_view file) {
  // A UTF-8 byte order mark is not part of the first key.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  const std::vector<NaturalLine> lines = split_lines(text);
  std::vector<Property> out;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view first = lines[n].text;
    size_t skip = 0;
    while (skip < first.size() && is_blank(first[skip])) ++skip;
    first.remove_prefix(skip);
    if (first.empty() || first[0] == '#' || first[0] == '!') continue;

    LogicalLine l;
    l.parts.push_back({0, lines[n].number});
    std::string_view part = first;
    for (;;) {
      const bool continues = trailing_backslashes(part) % 2 == 1;
      l.text.append(part.substr(0, continues ? part.size() - 1 : part.size()));
      if (!continues || n + 1 >= lines.size()) break;
      ++n;
      part = lines[n].text;
      size_t lead = 0;
      while (lead < part.size() && is_blank(part[lead])) ++lead;
      part.remove_prefix(lead);
      l.parts.push_back({l.text.size(), lines[n].number});
    }

    // The key ends at the first unescaped '=', ':' or whitespace.
    const std::string_view s(l.text);
    size_t key_end = 0;
    size_t value_start = s.size();
    bool has_separator = false;
    for (; key_end < s.size(); ++key_end) {
      const char c = s[key_end];
      if (c == '\\') {
        ++key_end;
        continue;
      }
      if (c == '=' || c == ':') {
        has_separator = true;
        value_start = key_end + 1;
        break;
      }
      if (is_blank(c)) {
        value_start = key_end + 1;
        break;
      }
    }
    if (key_end > s.size()) key_end = s.size();  // a key ending in a lone backslash
    // Then blanks, at most one '=' or ':' (when the key ended at a blank), and blanks again.
    while (value_start < s.size()) {
      const char c = s[value_start];
      if (!is_blank(c)) {
        if (has_separator || (c != '=' && c != ':')) break;
        has_separator = true;
      }
      ++value_start;
    }
    auto key = unescape(l, 0, key_end, file, "key");
    if (!key) return fail(std::move(key).error());
    auto value = unescape(l, std::min(value_start, s.size()), s.size(), file, "value of " + key->text);
    if (!value) return fail(std::move(value).error());
    out.push_back(
        {std::move(key->text), std::move(value->text), l.parts.front().second, value->dropped_backslash});
  }
  return out;
}

}  // namespace mirror::importer
