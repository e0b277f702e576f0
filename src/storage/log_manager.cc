#include "storage/log_manager.h"

#include "base/logging.h"
#include "storage/errc.h"

#include <fmt/format.h>
#include <random>
#include <utility>

namespace samsa::storage {
namespace {
constexpr logger log_{"storage"};

bool ends_with(const std::string& s, std::string_view suf)
{
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

offset lookup_or(const offset_map& m, const topic_partition& tp, offset dflt)
{
    auto it = m.find(tp);
    return it == m.end() ? dflt : it->second;
}

/// Reads a checkpoint, treating a missing or corrupt file as empty (with a warning when corrupt).
offset_map read_checkpoint_or_empty(file_ops& fs, const std::string& path)
{
    auto r = read_offset_checkpoint(fs, path);
    if (r) return *r;
    if (r.error() != make_error_code(errc::not_found)) {
        log_.warn("{}: unreadable checkpoint ({}); treating it as empty", path, r.error().message());
    }
    return {};
}
} // namespace

log_manager::log_manager(file_ops& fs, const clock& clk, log_manager_config cfg, config_fn config_for)
  : _fs(fs), _clock(clk), _cfg(std::move(cfg)), _config_for(std::move(config_for))
{}

log_manager::~log_manager() = default;

result<void> log_manager::startup()
{
    for (auto& dir : _cfg.log_dirs) SAMSA_TRY(load_dir(dir));
    _last_retention_ms = _last_checkpoint_ms = _last_producer_expiry_ms = _clock.monotonic_ms();
    return ok();
}

result<void> log_manager::load_dir(const std::string& dir)
{
    SAMSA_TRY(_fs.create_dirs(dir));
    auto marker = join_path(dir, clean_shutdown_file);
    bool clean = _fs.exists(marker);
    auto recovery = read_checkpoint_or_empty(_fs, join_path(dir, recovery_point_file));
    auto starts = read_checkpoint_or_empty(_fs, join_path(dir, log_start_file));
    auto hws = read_checkpoint_or_empty(_fs, join_path(dir, high_watermark_file));
    auto cleaned = read_checkpoint_or_empty(_fs, join_path(dir, cleaner_file));
    SAMSA_TRY_ASSIGN(auto names, _fs.list_dir(dir));
    size_t loaded = 0;
    for (auto& n : names) {
        auto path = join_path(dir, n);
        if (!_fs.is_dir(path)) {
            // A checkpoint write interrupted by a crash.
            if (ends_with(n, ".tmp")) SAMSA_TRY(_fs.remove(path));
            continue;
        }
        if (ends_with(n, "-delete")) {
            // A deletion interrupted by a crash: finish it.
            SAMSA_TRY(_fs.remove_all(path));
            continue;
        }
        topic_partition tp;
        if (!parse_partition_dir(n, tp)) continue;
        if (_logs.count(tp)) {
            log_.error("{}: duplicate log for {} (already in {})", path, tp, _log_dir_of[tp]);
            return make_error_code(errc::already_exists);
        }
        log_open_options o;
        o.clean_shutdown = clean;
        o.recovery_point = lookup_or(recovery, tp, offset(0));
        o.log_start_offset = lookup_or(starts, tp, offset(-1));
        o.high_watermark = lookup_or(hws, tp, offset(-1));
        o.cleaner_checkpoint = lookup_or(cleaned, tp, offset(-1));
        auto l = log::open(_fs, path, tp, _config_for(tp), _clock, o);
        if (!l) {
            log_.error("{}: cannot load log: {}", path, l.error().message());
            return l.error();
        }
        _logs.emplace(tp, std::move(*l));
        _log_dir_of[tp] = dir;
        ++_logs_in_dir[dir];
        ++loaded;
    }
    if (clean) {
        SAMSA_TRY(_fs.remove(marker));
        SAMSA_TRY(_fs.sync_dir(dir));
    }
    log_.info("{}: loaded {} log(s){}", dir, loaded, clean ? " after a clean shutdown" : " with recovery");
    return ok();
}

log* log_manager::get(const topic_partition& tp)
{
    auto it = _logs.find(tp);
    return it == _logs.end() ? nullptr : it->second.get();
}

std::shared_ptr<log> log_manager::share(const topic_partition& tp) const
{
    auto it = _logs.find(tp);
    return it == _logs.end() ? nullptr : it->second;
}

result<log*> log_manager::get_or_create(const topic_partition& tp, const log_config& cfg)
{
    if (auto* l = get(tp)) return l;
    if (_cfg.log_dirs.empty()) return make_error_code(errc::invalid_argument);
    std::optional<std::string> best;
    for (auto& d : _cfg.log_dirs) {
        if (_offline_dirs.count(d)) continue;
        if (!best || _logs_in_dir[d] < _logs_in_dir[*best]) best = d;
    }
    if (!best) return make_error_code(errc::log_offline);
    auto path = join_path(*best, tp.dir_name());
    SAMSA_TRY(_fs.create_dirs(path));
    // Durable with the log's first flush (see flush_job): a partition lost in a crash before
    // that is recreated empty from the topic's metadata.
    SAMSA_TRY_ASSIGN(auto l, log::open(_fs, path, tp, cfg, _clock, log_open_options{}));
    auto* raw = l.get();
    _logs.emplace(tp, std::move(l));
    _log_dir_of[tp] = *best;
    ++_logs_in_dir[*best];
    return raw;
}

result<void> log_manager::remove(const topic_partition& tp)
{
    SAMSA_TRY(retire(tp));
    return settle_retired();
}

result<void> log_manager::retire(const topic_partition& tp)
{
    auto it = _logs.find(tp);
    if (it == _logs.end()) return make_error_code(errc::not_found);
    auto dir = it->second->dir();
    auto parent = _log_dir_of[tp];
    _logs.erase(it);
    _log_dir_of.erase(tp);
    --_logs_in_dir[parent];
    // `<dir name>.<16 hex>-delete`, the name cut so the whole stays within 255 bytes (a topic
    // name may have 249 characters; Kafka shortens it the same way).
    auto unique = fmt::format(".{:016x}-delete", std::random_device{}() * 0x9e3779b97f4a7c15ull);
    auto doomed = join_path(parent, tp.dir_name().substr(0, max_file_name_bytes - unique.size()) + unique);
    SAMSA_TRY(_fs.rename(dir, doomed));
    _retired[parent].push_back(std::move(doomed));
    return ok();
}

result<void> log_manager::settle_retired()
{
    auto retired = std::exchange(_retired, {});
    std::error_code first;
    for (auto& [parent, doomed] : retired) {
        if (auto r = _fs.sync_dir(parent); !r && !first) first = r.error();
        if (auto r = checkpoint_dir(parent); !r && !first) first = r.error();
        // The renamed directories are dead already; removing their files can take a while.
        auto work = [this, doomed = std::move(doomed)] {
            for (auto& d : doomed) {
                if (auto r = _fs.remove_all(d); !r) log_.warn("{}: cannot remove: {}", d, r.error().message());
            }
        };
        if (_background) {
            _background->run(std::move(work), [] {});
        } else {
            work();
        }
    }
    if (first) return first;
    return ok();
}

std::optional<std::error_code> log_manager::dir_offline(const std::string& dir) const
{
    auto it = _offline_dirs.find(dir);
    if (it == _offline_dirs.end()) return std::nullopt;
    return it->second;
}

void log_manager::check_dirs()
{
    // A log that failed takes its whole directory offline for writes (as Kafka does).
    for (auto& [tp, l] : _logs) {
        if (!l->offline()) continue;
        auto& dir = _log_dir_of[tp];
        if (_offline_dirs.count(dir)) continue;
        auto why = l->offline_error().value_or(make_error_code(errc::io_error));
        log_.error("log directory {} is offline for writes: {} (first failure in {}); fetches of written data continue",
                   dir, why.message(), tp);
        _offline_dirs[dir] = why;
        for (auto& [tp2, l2] : _logs) {
            if (_log_dir_of[tp2] == dir && !l2->offline()) l2->set_offline(why);
        }
    }
    // A directory that only ran out of space comes back once space is free again.
    for (auto it = _offline_dirs.begin(); it != _offline_dirs.end();) {
        const auto& dir = it->first;
        auto free = _fs.available_bytes(dir);
        bool retry = it->second == make_error_code(errc::no_space) && free && *free >= min_free_bytes_to_reopen;
        if (!retry) {
            ++it;
            continue;
        }
        bool all = true;
        for (auto& [tp, l] : _logs) {
            if (_log_dir_of[tp] == dir) all &= l->try_reopen_after_no_space();
        }
        if (!all) {
            ++it;
            continue;
        }
        log_.info("log directory {} has {} bytes free again and is back online", dir, *free);
        it = _offline_dirs.erase(it);
    }
}

void log_manager::tick()
{
    int64_t now = _clock.monotonic_ms();
    check_dirs();
    run_due_flushes();
    for (auto& [tp, l] : _logs) l->remove_deleted_files();
    if (_cleaner) _cleaner->maybe_clean(*this);
    if (now - _last_retention_ms >= _cfg.retention_check_interval_ms) {
        _last_retention_ms = now;
        for (auto& [tp, l] : _logs) {
            if (auto r = l->apply_retention(); !r) log_.warn("{}: retention failed: {}", tp, r.error().message());
        }
    }
    if (now - _last_producer_expiry_ms >= _cfg.producer_id_expiration_check_interval_ms) {
        _last_producer_expiry_ms = now;
        for (auto& [tp, l] : _logs) l->remove_expired_producers(_cfg.producer_id_expiration_ms);
    }
    int64_t ckpt = std::min(_cfg.recovery_point_checkpoint_interval_ms, _cfg.log_start_checkpoint_interval_ms);
    if (now - _last_checkpoint_ms >= ckpt && !_checkpoint_in_flight) {
        _last_checkpoint_ms = now;
        if (!_background) {
            if (auto r = checkpoint(); !r) log_.warn("writing checkpoints failed: {}", r.error().message());
        } else {
            // Snapshot here, write (and fsync) on the pool.
            auto snaps = std::make_shared<std::vector<dir_checkpoints>>();
            for (auto& d : _cfg.log_dirs) {
                if (!_offline_dirs.count(d)) snaps->push_back(snapshot_checkpoints(d));
            }
            _checkpoint_in_flight = true;
            _background->run(
                [this, snaps] {
                    for (auto& c : *snaps) {
                        if (auto r = write_checkpoints(c); !r) {
                            log_.warn("{}: writing checkpoints failed: {}", c.dir, r.error().message());
                        }
                    }
                },
                [this] { _checkpoint_in_flight = false; });
        }
    }
}

log_manager::dir_checkpoints log_manager::snapshot_checkpoints(const std::string& dir)
{
    dir_checkpoints c;
    c.dir = dir;
    c.generation = ++_checkpoint_generation;
    for (auto& [tp, l] : _logs) {
        if (_log_dir_of[tp] != dir) continue;
        c.recovery[tp] = l->recovery_point();
        c.starts[tp] = l->log_start_offset();
        c.hws[tp] = l->high_watermark();
        if (l->config().cleanup_compact) c.cleaned[tp] = l->cleaner_checkpoint();
    }
    return c;
}

result<void> log_manager::write_checkpoints(const dir_checkpoints& c)
{
    std::lock_guard g(_checkpoint_mu);
    auto& written = _written_generation[c.dir];
    if (written >= c.generation) return ok(); // a newer snapshot is on disk already
    written = c.generation;
    SAMSA_TRY(write_offset_checkpoint(_fs, join_path(c.dir, cleaner_file), c.cleaned));
    SAMSA_TRY(write_offset_checkpoint(_fs, join_path(c.dir, recovery_point_file), c.recovery));
    SAMSA_TRY(write_offset_checkpoint(_fs, join_path(c.dir, log_start_file), c.starts));
    return write_offset_checkpoint(_fs, join_path(c.dir, high_watermark_file), c.hws);
}

result<void> log_manager::checkpoint_dir(const std::string& dir) { return write_checkpoints(snapshot_checkpoints(dir)); }

void log_manager::run_due_flushes()
{
    for (auto& [tp, l] : _logs) {
        auto job = l->take_due_flush();
        if (!job) continue;
        if (!_background) {
            auto r = job->run();
            l->complete_flush(*job, r);
            continue;
        }
        auto outcome = std::make_shared<result<void>>(ok());
        _background->run([job = *job, outcome] { *outcome = job.run(); },
                         [this, tp = tp, id = l->incarnation(), job = *job, outcome] {
                             // The log may have been deleted (or recreated) meanwhile.
                             if (auto* cur = get(tp); cur && cur->incarnation() == id) cur->complete_flush(job, *outcome);
                         });
    }
}

result<void> log_manager::checkpoint()
{
    std::error_code first;
    for (auto& d : _cfg.log_dirs) {
        if (_offline_dirs.count(d)) continue;
        if (auto r = checkpoint_dir(d); !r && !first) first = r.error();
    }
    if (first) return first;
    return ok();
}

result<void> log_manager::shutdown()
{
    if (_shut_down) return ok();
    _shut_down = true;
    std::map<std::string, bool> dir_ok;
    for (auto& d : _cfg.log_dirs) dir_ok[d] = true;
    for (auto& d : _offline_dirs) dir_ok[d.first] = false;
    for (auto& [tp, l] : _logs) {
        if (l->offline()) {
            dir_ok[_log_dir_of[tp]] = false;
            continue;
        }
        if (auto r = l->close(/*flush=*/true); !r) {
            log_.error("{}: flush at shutdown failed: {}", tp, r.error().message());
            dir_ok[_log_dir_of[tp]] = false;
        }
    }
    for (auto& [d, good] : dir_ok) {
        if (!good) continue;
        if (auto r = checkpoint_dir(d); !r) {
            log_.error("{}: writing checkpoints failed: {}", d, r.error().message());
            continue;
        }
        auto marker = join_path(d, clean_shutdown_file);
        if (auto r = _fs.write_file_atomic(marker, bytes_view{}); !r) {
            log_.error("{}: cannot write clean shutdown marker: {}", d, r.error().message());
        }
    }
    _logs.clear();
    return ok();
}

} // namespace samsa::storage
