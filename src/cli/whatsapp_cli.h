// What the whatsapp subcommands (whatsapp_commands.cc, whatsapp_import.cc) share.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/whatsapp/backup_prefix.h"
#include "chatvault/whatsapp/whatsapp_key.h"
#include "cli/commands.h"

namespace chatvault::cli {

// --key DIGITS|FILE, or "-" to read the digits from stdin (keeps them out of shell history).
Result<whatsapp::WhatsAppKey> LoadWhatsAppKey(const std::string& arg);

// The input without .crypt15, .crypt14 or .crypt12; empty when it ends in none of them.
std::string DefaultDecryptOutput(const std::string& in);

// "crypt15", "crypt14" or "crypt12".
const char* FormatName(whatsapp::BackupFormat format);

void AddWhatsAppImport(CLI::App* whatsapp, CommandRunner& runner);

}  // namespace chatvault::cli
