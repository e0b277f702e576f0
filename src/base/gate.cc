#include "base/gate.h"

#include "base/assert.h"

namespace samsa {

void gate::holder::release()
{
    if (!_g) return;
    auto* g = _g;
    _g = nullptr;
    g->leave();
}

gate::~gate() { SAMSA_ASSERT(_count == 0, "a gate is destroyed with {} task(s) still inside", _count); }

gate::holder gate::enter()
{
    if (_closed) throw gate_closed_error();
    ++_count;
    return holder(this);
}

std::optional<gate::holder> gate::try_enter()
{
    if (_closed) return std::nullopt;
    ++_count;
    return holder(this);
}

void gate::close(std::function<void()> on_empty)
{
    _closed = true;
    if (_count == 0) {
        if (on_empty) on_empty();
        return;
    }
    if (on_empty) _on_empty.push_back(std::move(on_empty));
}

void gate::leave()
{
    SAMSA_ASSERT(_count > 0, "a gate holder leaves a gate nobody is in");
    if (--_count > 0 || !_closed) return;
    // Taken out first: a callback may destroy what owns the gate, or close it again.
    auto callbacks = std::move(_on_empty);
    _on_empty.clear();
    for (auto& f : callbacks) f();
}

} // namespace samsa
