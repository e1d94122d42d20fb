// Writing YAML by hand, with comments where a reviewer needs them. Only what the importer emits:
// block mappings, flow sequences of strings, scalars that load back exactly as written, comments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mirror::importer::yaml {

// `s` as a YAML scalar that loads back as the same string: plain when that is unambiguous (letters,
// digits and . _ - / and no YAML keyword like true/null/yes), double-quoted with escapes otherwise.
std::string scalar(std::string_view s);

// ["a", "b\\.c"]: a flow sequence of double-quoted strings ("[]" when empty).
std::string string_list(const std::vector<std::string>& items);

// Text made safe for a comment: control characters (newlines included) become spaces.
std::string comment_text(std::string_view s);

// Builds the document line by line.
class Writer {
 public:
  // `indent` spaces, then "key: value", then "  # comment" (aligned when it fits).
  void entry(int indent, std::string_view key, std::string_view value, std::string_view comment = "");
  // A key that opens a block ("key:"), with an optional trailing comment.
  void open(int indent, std::string_view key, std::string_view comment = "");
  // A line of its own: "# text", wrapped at 110 columns; continuation lines are indented by two more.
  void comment(int indent, std::string_view text);
  void raw(std::string_view line);  // a line as is
  void blank();
  const std::string& text() const { return out_; }

 private:
  void trailing(std::string line, std::string_view comment);
  std::string out_;
};

}  // namespace mirror::importer::yaml
