// The route table: templates are split into segments once, at add(); a match is a
// scan over the distinct template shapes comparing segments in place (no
// allocation except the decoded parameters). The API has a few dozen routes, so a
// flat scan beats a trie in both simplicity and speed.
#include "http/router.hpp"

#include <array>
#include <deque>
#include <stdexcept>

namespace relayhost::http {

namespace {

// The deepest template we accept; a path with more segments is 404 without a scan.
// The API's deepest route has 3 segments.
constexpr size_t max_segments = 16;

// Methods in the order `Allow` lists them; any other method follows in registration order.
constexpr std::array<std::string_view, 7> allow_order{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

struct segment {
  std::string text;  // the literal, or the parameter's name
  bool param = false;
};

using path_segments = std::array<std::string_view, max_segments>;

// Splits "/a/b" into {"a", "b"}; "/" into {}. Returns false when the path is not
// absolute or is deeper than max_segments.
bool split_path(std::string_view path, path_segments& out, size_t& count) {
  count = 0;
  if (path.empty() || path.front() != '/')
    return false;
  if (path.size() == 1)
    return true;
  path.remove_prefix(1);
  while (true) {
    if (count == max_segments)
      return false;
    auto slash = path.find('/');
    out[count++] = path.substr(0, slash);
    if (slash == std::string_view::npos)
      return true;
    path.remove_prefix(slash + 1);
  }
}

bool valid_param_name(std::string_view name) {
  if (name.empty())
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

} // namespace

struct router::table {
  // All routes of one template shape (same segments, parameters compared by position).
  struct shape {
    std::string templ;
    std::vector<segment> segments;
    std::vector<const route*> routes;

    const route* find(std::string_view method) const {
      for (auto* r : routes)
        if (r->method == method)
          return r;
      return nullptr;
    }

    // HEAD falls back to GET.
    const route* find_for_request(std::string_view method) const {
      if (auto* r = find(method))
        return r;
      return method == "HEAD" ? find("GET") : nullptr;
    }

    bool matches(const path_segments& path, size_t count) const {
      if (count != segments.size())
        return false;
      for (size_t i = 0; i < count; ++i) {
        if (segments[i].param ? path[i].empty() : path[i] != segments[i].text)
          return false;
      }
      return true;
    }

    // Literal beats parameter at the first position where two matching shapes differ.
    bool more_specific_than(const shape& other) const {
      for (size_t i = 0; i < segments.size(); ++i)
        if (segments[i].param != other.segments[i].param)
          return !segments[i].param;
      return false;
    }
  };

  std::deque<route> routes;  // deque: stable addresses for shape::routes
  std::vector<shape> shapes;
};

router::router() : table_(std::make_unique<table>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

void router::add(std::string method, std::string templ, auth_mode auth, route_handler handler) {
  if (method.empty())
    throw std::invalid_argument("route method is empty");
  path_segments parts;
  size_t count = 0;
  if (!split_path(templ, parts, count))
    throw std::invalid_argument("route template must start with '/' and have at most "
                                + std::to_string(max_segments) + " segments: " + templ);
  std::vector<segment> segments;
  for (size_t i = 0; i < count; ++i) {
    auto part = parts[i];
    if (part.empty())
      throw std::invalid_argument("route template has an empty segment: " + templ);
    segment s;
    if (part.front() == ':') {
      s.param = true;
      s.text = std::string(part.substr(1));
      if (!valid_param_name(s.text))
        throw std::invalid_argument("bad parameter name in route template: " + templ);
      for (auto& earlier : segments)
        if (earlier.param && earlier.text == s.text)
          throw std::invalid_argument("repeated parameter name in route template: " + templ);
    } else {
      s.text = std::string(part);
    }
    segments.push_back(std::move(s));
  }

  table::shape* shape = nullptr;
  for (auto& existing : table_->shapes) {
    if (existing.segments.size() != segments.size())
      continue;
    bool same = true;
    for (size_t i = 0; same && i < segments.size(); ++i)
      same = existing.segments[i].param == segments[i].param
             && (segments[i].param || existing.segments[i].text == segments[i].text);
    if (!same)
      continue;
    // Same shape: parameter names must agree, or a handler would look up a name
    // that another method's template spells differently.
    for (size_t i = 0; i < segments.size(); ++i)
      if (segments[i].param && existing.segments[i].text != segments[i].text)
        throw std::invalid_argument("route template " + templ + " names its parameters differently from "
                                    + existing.templ);
    if (existing.find(method))
      throw std::invalid_argument("route registered twice: " + method + " " + templ);
    shape = &existing;
    break;
  }
  if (!shape) {
    table_->shapes.push_back({templ, std::move(segments), {}});
    shape = &table_->shapes.back();
  }
  table_->routes.push_back({std::move(method), std::move(templ), auth, std::move(handler)});
  shape->routes.push_back(&table_->routes.back());
}

router::match_result router::match(std::string_view method, std::string_view path) const {
  match_result result;
  path_segments parts;
  size_t count = 0;
  const table::shape* best = nullptr;        // most specific shape with this method
  const route* best_route = nullptr;
  const table::shape* best_any = nullptr;    // most specific shape at all (for 405's template)

  if (split_path(path, parts, count)) {
    for (auto& shape : table_->shapes) {
      if (!shape.matches(parts, count))
        continue;
      if (!best_any || shape.more_specific_than(*best_any))
        best_any = &shape;
      if (auto* r = shape.find_for_request(method); r && (!best || shape.more_specific_than(*best))) {
        best = &shape;
        best_route = r;
      }
    }
  }

  if (best) {
    result.templ = best->templ;
    for (size_t i = 0; i < count; ++i) {
      auto& seg = best->segments[i];
      if (!seg.param)
        continue;
      auto decoded = percent_decode(parts[i]);
      if (!decoded) {
        result.error = api_error::invalid_field(seg.text, "path parameter '" + seg.text
                                                              + "' has a malformed percent-escape");
        result.params.clear();
        return result;
      }
      result.params.emplace_back(seg.text, std::move(*decoded));
    }
    result.matched = best_route;
    return result;
  }

  if (!best_any) {
    result.error = api_error{errc::not_found, "no such route", {}};
    return result;
  }

  // 405: every method any matching template accepts, HEAD wherever GET is.
  result.templ = best_any->templ;
  std::vector<std::string_view> methods;
  auto add_method = [&](std::string_view m) {
    for (auto existing : methods)
      if (existing == m)
        return;
    methods.push_back(m);
  };
  for (auto& shape : table_->shapes) {
    if (!shape.matches(parts, count))
      continue;
    for (auto* r : shape.routes) {
      add_method(r->method);
      if (r->method == "GET")
        add_method("HEAD");
    }
  }
  auto append = [&](std::string_view m) {
    if (!result.allow.empty())
      result.allow += ", ";
    result.allow += m;
  };
  for (auto m : allow_order)
    for (auto existing : methods)
      if (existing == m)
        append(m);
  for (auto m : methods) {
    bool listed = false;
    for (auto known : allow_order)
      listed = listed || known == m;
    if (!listed)
      append(m);
  }
  result.error = api_error{errc::method_not_allowed,
                           "method " + std::string(method) + " is not allowed here (allowed: " + result.allow + ")",
                           {}};
  return result;
}

std::vector<route_info> router::routes() const {
  std::vector<route_info> out;
  out.reserve(table_->routes.size());
  for (auto& r : table_->routes)
    out.push_back({r.method, r.templ, r.auth});
  return out;
}

} // namespace relayhost::http
