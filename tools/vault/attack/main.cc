// vault-attack: the cheap attacks of issue 16 against a Backup Key Vault's HTTPS transport, to
// check a deployed keyvaultd (or a test one) keeps serving while they run. Prints one JSON
// object per run; exits 0 whatever the vault did (judging is the caller's business).
#include <CLI/CLI.hpp>
#include <future>
#include <iostream>
#include <sstream>

#include "vault/attack/attacks.h"

namespace {

using namespace chatvault::vaultattack;

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

struct Common {
  std::string url;
  std::string ca;
  double probe_every_s = 0;  // 0: no health probe during a hold attack
};

void AddCommon(CLI::App& sub, Common& c) {
  sub.add_option("--url", c.url, "The vault, https://HOST:PORT")->required();
  sub.add_option("--ca", c.ca, "CA or certificate to verify the vault with (default: none)");
}

int RunHold(const Common& c, HoldOptions options, double seconds, double interval_s,
            const std::string& sources) {
  auto target = ParseTarget(c.url, c.ca);
  if (!target.ok()) {
    std::cerr << "vault-attack: " << target.status().message() << "\n";
    return 2;
  }
  options.duration = milliseconds(static_cast<int64_t>(seconds * 1000));
  options.interval = milliseconds(static_cast<int64_t>(interval_s * 1000));
  options.sources = SplitList(sources);
  std::future<ProbeReport> probe;
  if (c.probe_every_s > 0) {
    probe = std::async(std::launch::async, [&] {
      return ProbeHealth(*target, options.duration,
                         milliseconds(static_cast<int64_t>(c.probe_every_s * 1000)));
    });
  }
  const HoldReport report = HoldConnections(*target, options);
  std::cout << "{\"attack\":" << report.ToJson();
  if (probe.valid()) std::cout << ",\"health\":" << probe.get().ToJson();
  std::cout << "}\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "vault-attack: cheap attacks on a Backup Key Vault's HTTPS transport (issue 16).\n"
      "Each subcommand runs one attack against --url and prints a JSON report. Run it only\n"
      "against a vault you operate. Source addresses (--source) must be local to this machine;\n"
      "on loopback any 127.x.y.z works, which lets one machine look like several clients.",
      "vault-attack"};
  app.require_subcommand(1);

  Common common;
  HoldOptions hold;
  double seconds = 20, interval_s = 4;
  std::string sources;
  CLI::App* slow = app.add_subcommand(
      "slow-headers", "Hold TLS connections that send a request header one byte at a time");
  CLI::App* idle = app.add_subcommand("idle-tcp", "Hold TCP connections that send nothing");
  for (CLI::App* sub : {slow, idle}) {
    AddCommon(*sub, common);
    sub->add_option("--connections", hold.connections, "Connections held at once")
        ->capture_default_str();
    sub->add_option("--seconds", seconds, "How long the attack lasts")->capture_default_str();
    sub->add_option("--source", sources, "Source addresses to connect from, comma-separated");
    sub->add_flag("!--no-reconnect", hold.reconnect, "Do not replace connections the vault closes");
    sub->add_option("--probe", common.probe_every_s,
                    "Meanwhile, GET /v1/health on a new connection every this many seconds");
  }
  slow->add_option("--interval", interval_s, "Seconds between two header (or body) bytes")
      ->capture_default_str();
  slow->add_flag("--body", hold.slow_body, "Send the header at once and the body slowly");

  BodyOptions body;
  CLI::App* big_body = app.add_subcommand(
      "big-body", "POST a body far over the limit (chunked by default), as fast as it is read");
  AddCommon(*big_body, common);
  big_body->add_option("--bytes", body.bytes, "Body size (after decompression with --encoding)")
      ->capture_default_str();
  big_body->add_flag("!--content-length", body.chunked, "Send Content-Length instead of chunks");
  big_body->add_option("--encoding", body.content_encoding,
                       "Content-Encoding to declare; the body is then a gzip bomb");
  big_body->add_option("--path", body.path, "Route to POST to")->capture_default_str();

  HeaderOptions header;
  CLI::App* big_header =
      app.add_subcommand("big-header", "Send a request header that is too large or too long");
  AddCommon(*big_header, common);
  big_header->add_option("--fields", header.fields, "Header fields")->capture_default_str();
  big_header->add_option("--field-bytes", header.field_bytes, "Bytes in each field's value")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (*slow || *idle) {
    hold.tls = static_cast<bool>(*slow);
    return RunHold(common, hold, seconds, interval_s, sources);
  }
  auto target = ParseTarget(common.url, common.ca);
  if (!target.ok()) {
    std::cerr << "vault-attack: " << target.status().message() << "\n";
    return 2;
  }
  if (*big_body) std::cout << OversizedBody(*target, body).ToJson() << "\n";
  if (*big_header) std::cout << OversizedHeader(*target, header).ToJson() << "\n";
  return 0;
}
