// POST /api/admin/invites' body: parse_json_object() and invite_spec_from_json(). Whatever the
// bytes: no crash, a refusal is a 400 with one of the contract's messages, and an accepted spec
// is within the contract's ranges with a note that is Unicode without control or bidi characters.
#include <limits>
#include <string>

#include "core/invites.h"
#include "core/json.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chatalot;
  const std::string_view input = fuzz::as_text(data, size);
  {
    const std::string shown = escape_for_terminal(input);  // any bytes, malformed ones too
    FUZZ_CHECK_MSG(is_valid_utf8(shown) && !has_control_or_bidi(shown), shown);
  }
  Result<rapidjson::Document> doc = parse_json_object(input);
  if (!doc.is_ok()) {
    FUZZ_CHECK(fuzz::is_refusal(doc.status(), Code::kInvalidArgument));
    fuzz::trace("not parsed", doc.status().message());
    return 0;
  }
  // What the CLI shows of a stored note, whatever it holds (older rows, the shell's own
  // invites): nothing that a terminal would act on, and plain text unchanged.
  if (const auto n = doc->FindMember("note"); n != doc->MemberEnd() && n->value.IsString()) {
    const std::string_view raw(n->value.GetString(), n->value.GetStringLength());
    const std::string shown = escape_for_terminal(raw);
    FUZZ_CHECK_MSG(is_valid_utf8(shown) && !has_control_or_bidi(shown), shown);
    if (!has_control_or_bidi(raw) && raw.find('\\') == std::string_view::npos) {
      FUZZ_CHECK_MSG(shown == raw, shown);
    }
  }

  FUZZ_CHECK(is_valid_utf8(fuzz::accepted_json(input)));

  Result<InviteSpec> spec = invite_spec_from_json(*doc);
  fuzz::trace("spec", spec.is_ok() ? "accepted" : spec.status().message());
  if (!spec.is_ok()) {
    FUZZ_CHECK(fuzz::is_refusal(spec.status(), Code::kInvalidArgument));
    const std::string& m = spec.status().message();
    FUZZ_CHECK_MSG(m == Msg::kMaxUsesType.text() || m == Msg::kExpiresType.text() ||
                       m == Msg::kNoteType.text() || m == Msg::kMaxUsesRange.text() ||
                       m == Msg::kExpiresRange.text() || m == Msg::kNoteRange.text(),
                   m);
    return 0;
  }
  FUZZ_CHECK(check_invite_spec(*spec).is_ok());
  if (spec->max_uses) {
    FUZZ_CHECK(*spec->max_uses >= 1 && *spec->max_uses <= std::numeric_limits<std::int32_t>::max());
  }
  if (spec->expires_in_hours) {
    FUZZ_CHECK(*spec->expires_in_hours >= 1 && *spec->expires_in_hours <= 8760);
  }
  // Absent and null are "none"; a present integer is taken as it is.
  const auto field = [&](const char* name) -> const rapidjson::Value* {
    const auto it = doc->FindMember(name);
    return it == doc->MemberEnd() ? nullptr : &it->value;
  };
  for (const auto& [name, value] : {std::pair{"max_uses", &spec->max_uses},
                                    std::pair{"expires_in_hours", &spec->expires_in_hours}}) {
    const rapidjson::Value* v = field(name);
    FUZZ_CHECK(value->has_value() == (v != nullptr && !v->IsNull()));
    if (v != nullptr && !v->IsNull()) FUZZ_CHECK(v->IsInt64() && v->GetInt64() == **value);
  }
  if (spec->note) {
    const std::string& note = *spec->note;
    FUZZ_CHECK_MSG(is_valid_utf8(note), note);
    FUZZ_CHECK_MSG(!has_control_or_bidi(note), note);
    FUZZ_CHECK(count_code_points(note) <= 200);
    for (std::size_t i = 0; i < note.size();) {  // the same, code point by code point
      const CodePoint c = decode_utf8_at(note, i);
      FUZZ_CHECK_MSG(!is_control(c.value) && !is_bidi_control(c.value), note);
      FUZZ_CHECK(c.value != 0xFFFD || c.size == 3);
      i += c.size;
    }
    // Stored exactly as sent: no trimming, no normalisation.
    const rapidjson::Value* v = field("note");
    FUZZ_CHECK(v != nullptr && v->IsString() &&
               note == std::string_view(v->GetString(), v->GetStringLength()));
  } else {
    const rapidjson::Value* v = field("note");
    FUZZ_CHECK(v == nullptr || v->IsNull());
  }
  return 0;
}
