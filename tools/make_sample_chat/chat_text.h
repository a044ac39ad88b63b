// Message texts that look like a real chat: mostly short lines, some paragraphs, emoji and links.
#pragma once

#include <string>

#include "make_sample_chat/rng.h"

namespace chatvault::sample {

std::string MakeMessageText(Rng& rng);
// `bytes` of plain prose, for the compressible documents among the media.
void AppendProse(Rng& rng, std::string& out, size_t bytes);

}  // namespace chatvault::sample
