// toml++ is used header-only, so it is built with the rest of Thinboot (and instrumented with it under the
// sanitizers and the fuzzer). No exceptions: a parse error comes back as a value. toml++ guards its own invariants
// with assert(): without it a broken one is undefined behaviour, so assert() stays on in release builds too (an
// abort, never memory corruption; TOMLText's check keeps the known ones from being reached).
#undef NDEBUG
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#include <CTOMLReader.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void put_u32(std::string &out, size_t value) {
    uint32_t narrow = static_cast<uint32_t>(value);
    out.append(reinterpret_cast<const char *>(&narrow), sizeof narrow);
}

void put_text(std::string &out, char tag, std::string_view text) {
    out.push_back(tag);
    put_u32(out, text.size());
    out.append(text);
}

std::string date_text(const toml::date &date) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%04u-%02u-%02u", unsigned(date.year), unsigned(date.month),
                  unsigned(date.day));
    return buffer;
}

std::string time_text(const toml::time &time) {
    char buffer[32];
    int length = std::snprintf(buffer, sizeof buffer, "%02u:%02u:%02u", unsigned(time.hour), unsigned(time.minute),
                               unsigned(time.second));
    if (time.nanosecond != 0 && length > 0) {
        std::snprintf(buffer + length, sizeof buffer - size_t(length), ".%09u", unsigned(time.nanosecond));
    }
    return buffer;
}

std::string date_time_text(const toml::date_time &value) {
    std::string text = date_text(value.date) + "T" + time_text(value.time);
    if (value.offset) {
        int minutes = value.offset->minutes;
        if (minutes == 0) {
            text += "Z";
        } else {
            char buffer[8];
            int magnitude = minutes < 0 ? -minutes : minutes;
            std::snprintf(buffer, sizeof buffer, "%c%02d:%02d", minutes < 0 ? '-' : '+', magnitude / 60,
                          magnitude % 60);
            text += buffer;
        }
    }
    return text;
}

void flatten(std::string &out, const toml::node &node) {
    switch (node.type()) {
    case toml::node_type::table: {
        const toml::table &table = *node.as_table();
        out.push_back('t');
        put_u32(out, table.size());
        for (auto &&[key, value] : table) {
            put_u32(out, key.str().size());
            out.append(key.str());
            flatten(out, value);
        }
        break;
    }
    case toml::node_type::array: {
        const toml::array &array = *node.as_array();
        out.push_back('a');
        put_u32(out, array.size());
        for (const toml::node &element : array) flatten(out, element);
        break;
    }
    case toml::node_type::string: put_text(out, 's', node.as_string()->get()); break;
    case toml::node_type::integer: {
        int64_t value = node.as_integer()->get();
        out.push_back('i');
        out.append(reinterpret_cast<const char *>(&value), sizeof value);
        break;
    }
    case toml::node_type::floating_point: {
        double value = node.as_floating_point()->get();
        out.push_back('f');
        out.append(reinterpret_cast<const char *>(&value), sizeof value);
        break;
    }
    case toml::node_type::boolean:
        out.push_back('b');
        out.push_back(node.as_boolean()->get() ? 1 : 0);
        break;
    case toml::node_type::date: put_text(out, 'D', date_text(node.as_date()->get())); break;
    case toml::node_type::time: put_text(out, 'T', time_text(node.as_time()->get())); break;
    case toml::node_type::date_time: put_text(out, 'X', date_time_text(node.as_date_time()->get())); break;
    case toml::node_type::none: break;
    }
}

thinboot_toml_result copy_out(const std::string &bytes, uint32_t error_line) {
    thinboot_toml_result result = {nullptr, 0, error_line};
    result.bytes = static_cast<uint8_t *>(std::malloc(bytes.size() == 0 ? 1 : bytes.size()));
    if (result.bytes == nullptr) return result;
    std::memcpy(result.bytes, bytes.data(), bytes.size());
    result.count = bytes.size();
    return result;
}

} // namespace

extern "C" thinboot_toml_result thinboot_toml_parse(const char *text, size_t length) {
    // No C++ exception may unwind into Swift (it would abort the process): std::bad_alloc from the parse or the
    // flattening is the "memory ran out" result.
    try {
        toml::parse_result parsed = toml::parse(std::string_view(text == nullptr ? "" : text, length));
        if (!parsed) {
            const toml::parse_error &error = parsed.error();
            uint32_t line = error.source().begin.line;
            return copy_out(std::string(error.description()), line == 0 ? 1 : line);
        }
        std::string out;
        flatten(out, parsed.table());
        return copy_out(out, 0);
    } catch (...) {
        return thinboot_toml_result{nullptr, 0, 0};
    }
}

extern "C" void thinboot_toml_free(thinboot_toml_result *result) {
    std::free(result->bytes);
    result->bytes = nullptr;
    result->count = 0;
}
