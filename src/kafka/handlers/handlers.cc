#include "kafka/handlers/handlers.h"

#include <algorithm>

namespace samsa::kafka {

using protocol::api_key;

const std::vector<api_handler>& api_handlers()
{
    static const std::vector<api_handler> table = [] {
        std::vector<api_handler> t = {
            {api_key::produce, 0, 9, &handle_produce},
            {api_key::fetch, 0, 12, &handle_fetch},
            {api_key::metadata, 0, 12, &handle_metadata},
            {api_key::api_versions, 0, 3, &handle_api_versions},
        };
        std::sort(t.begin(), t.end(), [](auto& a, auto& b) { return a.key < b.key; });
        return t;
    }();
    return table;
}

const api_handler* find_handler(api_key key)
{
    for (auto& h : api_handlers()) {
        if (h.key == key) return &h;
    }
    return nullptr;
}

} // namespace samsa::kafka
