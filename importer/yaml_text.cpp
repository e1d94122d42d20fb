#include "importer/yaml_text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace mirror::importer::yaml {

namespace {

constexpr size_t kWidth = 110;         // the repository's line length
constexpr size_t kCommentColumn = 44;  // where trailing comments start when the line is shorter

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_keyword(std::string_view s) {
  static constexpr std::array<std::string_view, 14> kWords{
      "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".nan", ".inf", "-.inf", "+.inf"};
  const std::string l = lower(s);
  return std::find(kWords.begin(), kWords.end(), l) != kWords.end();
}

bool looks_numeric(std::string_view s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i >= s.size()) return false;
  return std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.';
}

}  // namespace

std::string scalar(std::string_view s) {
  const bool safe_chars = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '/';
  });
  const bool safe_start =
      !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '/' || s[0] == '_');
  if (safe_chars && safe_start && !is_keyword(s) && !looks_numeric(s)) return std::string(s);
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          std::array<char, 8> buf{};
          std::snprintf(buf.data(), buf.size(), "\\x%02X", c);
          out += buf.data();
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string string_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    // Always quoted: a pattern like `*` or `[a-z]` is not a valid plain scalar in a flow sequence.
    std::string q = scalar(items[i]);
    if (q.front() != '"') q = "\"" + q + "\"";
    out += q;
  }
  return out + "]";
}

std::string comment_text(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return out;
}

void Writer::trailing(std::string line, std::string_view comment) {
  if (!comment.empty()) {
    const std::string c = "# " + comment_text(comment);
    // Aligned when the line leaves room, even if the comment then runs past the usual width: a column
    // of comments is easier to review than a ragged one.
    if (line.size() + 2 < kCommentColumn)
      line.append(kCommentColumn - line.size(), ' ');
    else
      line += "  ";
    line += c;
  }
  out_ += line + "\n";
}

void Writer::entry(int indent, std::string_view key, std::string_view value, std::string_view comment) {
  trailing(std::string(static_cast<size_t>(indent), ' ') + std::string(key) + ": " + std::string(value),
           comment);
}

void Writer::open(int indent, std::string_view key, std::string_view comment) {
  trailing(std::string(static_cast<size_t>(indent), ' ') + std::string(key) + ":", comment);
}

void Writer::comment(int indent, std::string_view text) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  std::string rest = comment_text(text);
  std::string prefix = pad + "# ";
  // Continuation lines go two further than the text's own indentation (list items stay readable).
  const std::string hang =
      pad + "#   " +
      std::string(rest.find_first_not_of(' ') == std::string::npos ? 0 : rest.find_first_not_of(' '), ' ');
  while (!rest.empty()) {
    const size_t room = kWidth > prefix.size() + 20 ? kWidth - prefix.size() : 20;
    size_t cut = rest.size();
    if (rest.size() > room) {
      cut = rest.rfind(' ', room);
      if (cut == std::string::npos || cut == 0) cut = std::min(rest.find(' ', room), rest.size());
    }
    std::string piece = rest.substr(0, cut);
    while (!piece.empty() && piece.back() == ' ') piece.pop_back();
    out_ += prefix + piece + "\n";
    rest = cut < rest.size() ? rest.substr(cut + 1) : "";
    while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
    prefix = hang;
  }
  if (text.empty()) out_ += pad + "#\n";
}

void Writer::raw(std::string_view line) { out_ += std::string(line) + "\n"; }

void Writer::blank() { out_ += "\n"; }

}  // namespace mirror::importer::yaml
