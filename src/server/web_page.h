// The web chat page served at "/": one self-contained HTML document (no build step).
#pragma once

namespace trapetum::server {

const char* web_page_html();

}  // namespace trapetum::server
