"""``python -m portal doctor``: check a deployment and say exactly what is wrong and how to fix it.

Each check returns findings with a level (ok / warn / error), a stable code (for scripts and
tests), a Chinese message and the fix. ``doctor`` exits 1 when any error is found, so it can gate
a deploy script. It reads the configuration the portal itself would use (Settings.from_env) and
never prints a secret.
"""

from __future__ import annotations

import math
import os
import shutil
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from portal.config import Settings

MAX_SKEW_S = 30.0
MIN_FREE_BYTES = 2 * 1024**3
WEAK_PASSWORDS = {"", "postgres", "password", "123456", "admin", "root", "secret", "changeme", "test", "redis"}


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warn | error
    code: str
    message: str
    fix: str = ""


@dataclass
class Context:
    settings: Settings
    workers: int
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


def _entropy_bits(data: bytes) -> float:
    counts = Counter(data)
    return -sum(c / len(data) * math.log2(c / len(data)) for c in counts.values()) * len(data) if data else 0.0


def check_keys(ctx: Context) -> list[Finding]:
    from secure_store import instance

    kdir = instance.keys_dir(ctx.settings.data_dir)
    try:
        secrets_ = instance.load(ctx.settings.data_dir)
    except instance.InstanceNotInitialised:
        return [Finding("error", "instance_missing", f"实例密钥不存在：{kdir}", "运行 `python -m portal init`（只运行一次，并离线保存打印的恢复密钥）。")]
    except (ValueError, KeyError) as exc:
        return [Finding("error", "instance_corrupt", f"实例密钥文件损坏：{type(exc).__name__}", "从加密备份恢复 keys/ 目录。")]
    out = []
    for path in [kdir, *kdir.iterdir()]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            out.append(Finding("error", "key_permissions", f"{path} 的权限为 {oct(mode)}，同组或其他用户可读",
                               f"chmod {'700' if path.is_dir() else '600'} {path}，并确认属主是运行门户的账号。"))
    for name, value in (("mac_key", secrets_.mac_key), ("session_secret", secrets_.session_secret)):
        if len(value) < 32 or _entropy_bits(value) < 128:
            out.append(Finding("error", "weak_secret", f"实例密钥 {name} 过短或熵过低（可能被手工改过）",
                               "停止服务，从备份恢复 keys/instance.json；不要手工编辑。"))
    if secrets_.receipt_params.memory_kib < 19456 or secrets_.receipt_params.time_cost < 2:
        out.append(Finding("warn", "weak_receipt_kdf", "查询码的 Argon2id 参数低于推荐值（19 MiB，t=2）",
                           "该参数在 init 时固定；新实例请勿设置更低的 PORTAL_ARGON2_*。"))
    return out or [Finding("ok", "keys", "实例密钥存在，权限为仅属主可读")]


def check_database(ctx: Context) -> list[Finding]:
    from sqlalchemy import create_engine, select, text

    from portal.migrate import is_current

    url = ctx.settings.database_url
    out: list[Finding] = []
    if url.startswith("sqlite"):
        if ctx.workers > 1:
            out.append(Finding("error", "sqlite_multiworker", f"使用 SQLite 运行 {ctx.workers} 个工作进程：并发写入会互相阻塞甚至失败",
                               "生产环境设置 DATABASE_URL=postgresql://…（见 docs/deploy.md），或只用 1 个工作进程试用。"))
        else:
            out.append(Finding("warn", "sqlite", "使用内嵌 SQLite：仅适合试用和演示", "生产环境请使用 PostgreSQL。"))
    else:
        password = urlsplit(url.replace("+psycopg", "")).password
        host = urlsplit(url.replace("+psycopg", "")).hostname or ""
        if host not in ("127.0.0.1", "localhost", "", "::1") and (password or "") in WEAK_PASSWORDS:
            out.append(Finding("error", "weak_db_password", f"数据库 {host} 通过网络连接，但密码为空或为常见弱口令",
                               "为门户的数据库账号设置长随机口令（或使用本机套接字/证书认证）。"))
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not is_current(engine, url):
                out.append(Finding("error", "schema_outdated", "数据库结构不是最新版本", "运行 `python -m portal migrate`。"))
            if conn.dialect.name == "postgresql":
                db_now = conn.execute(text("select now()")).scalar_one()
                skew = abs((ctx.now() - db_now).total_seconds())
                if skew > MAX_SKEW_S:
                    out.append(Finding("error", "clock_skew", f"本机时钟与数据库服务器相差 {skew:.0f} 秒",
                                       "在两台机器上启用 NTP（chrony/systemd-timesyncd）：法定期限和审计时间依赖准确时钟。"))
            from models import Department, DepartmentGrant
            from models.department import COORDINATION_CODE, FINANCE_CODE

            codes = dict(conn.execute(select(Department.code, Department.id)).all())
            for code, what in ((COORDINATION_CODE, "区安委会办公室"), (FINANCE_CODE, "财务部门")):
                if code not in codes:
                    out.append(Finding("error", f"missing_{code}", f"缺少{what}及其密钥", "运行 `python -m portal init`（幂等，会补建缺少的部门）。"))
            out += _rollup_freshness(conn, ctx)
            granted = set(conn.execute(select(DepartmentGrant.department_id)).scalars())
            orphans = sorted(code for code, i in codes.items() if i not in granted)
            if orphans:
                out.append(Finding("warn", "departments_without_keyholder", f"以下部门还没有成员持有部门密钥：{', '.join(orphans)}",
                                   "由部门负责人授权，或按密钥仪式用离线恢复密钥授予第一名成员（docs/security.md）。"))
    except Exception as exc:  # noqa: BLE001 — report, never crash the doctor
        return out + [Finding("error", "database_unreachable", f"无法连接数据库：{type(exc).__name__}",
                              "检查 DATABASE_URL、数据库服务是否运行、网络与认证配置。")]
    finally:
        engine.dispose()
    return out or [Finding("ok", "database", "数据库可连接，结构为最新版本，时钟一致")]


def _rollup_freshness(conn, ctx: Context) -> list[Finding]:  # type: ignore[no-untyped-def]
    """The oversight dashboards read the statistics rollup only while cron keeps it fresh."""
    from sqlalchemy import func, select

    from models import StatsRefresh

    latest = conn.execute(select(func.max(StatsRefresh.finished_at))).scalar()
    full = conn.execute(select(func.max(StatsRefresh.finished_at)).where(StatsRefresh.since.is_(None))).scalar()
    now = ctx.now()

    def age_h(t) -> float:  # type: ignore[no-untyped-def]
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        return (now - t).total_seconds() / 3600

    if full is None or age_h(full) > 36 or latest is None or age_h(latest) > 0.5:
        return [Finding("warn", "rollup_stale", "监督统计汇总表没有按时刷新：统计页面将直接读取全部举报，数据量大时会很慢",
                        "按 docs/oversight.md 配置定时任务：每10分钟 `python -m portal oversight-refresh`，每晚 `--full`。")]
    return []


def check_redis(ctx: Context) -> list[Finding]:
    url = ctx.settings.redis_url
    if not url:
        if ctx.workers > 1:
            return [Finding("error", "redis_missing", f"{ctx.workers} 个工作进程但未设置 REDIS_URL：限流计数各进程独立，防刷限制形同虚设",
                            "设置 REDIS_URL=redis://127.0.0.1:6379/0。")]
        return [Finding("warn", "redis_memory", "限流计数保存在进程内存中（仅适合单进程试用）", "生产环境设置 REDIS_URL。")]
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        return [Finding("error", "redis_unreachable", f"无法连接 Redis：{type(exc).__name__}", "检查 REDIS_URL 和 Redis 服务。")]
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1") and not urlsplit(url).password:
        return [Finding("error", "weak_redis_password", f"Redis {host} 通过网络连接但没有口令", "为 Redis 设置 requirepass 并写入 REDIS_URL，或只监听本机。")]
    return [Finding("ok", "redis", "Redis 可连接，限流计数在工作进程间共享")]


def check_settings(ctx: Context) -> list[Finding]:
    s = ctx.settings
    out = []
    if not s.secure_cookies:
        out.append(Finding("error", "insecure_cookies", "PORTAL_SECURE_COOKIES=0：登录 Cookie 可经明文 HTTP 传输",
                           "生产环境删除该设置，并只通过 HTTPS（或洋葱服务）提供门户。"))
    if s.pow_bits < 14:
        out.append(Finding("warn", "low_pow", f"防刷工作量难度 PORTAL_POW_BITS={s.pow_bits} 偏低", "生产环境使用默认值 18。"))
    if s.trusted_proxies > 2:
        out.append(Finding("warn", "many_proxies", f"信任 {s.trusted_proxies} 层反向代理的 X-Forwarded-For", "只信任实际存在的代理层数（nginx 一层为 1）。"))
    return out or [Finding("ok", "settings", "Cookie、防刷和代理设置正常")]


def check_disk(ctx: Context) -> list[Finding]:
    data = ctx.settings.data_dir
    if not data.exists():
        return [Finding("error", "data_dir_missing", f"数据目录不存在：{data}", "设置 PORTAL_DATA_DIR 或运行 `python -m portal init`。")]
    if not os.access(data, os.W_OK):
        return [Finding("error", "data_dir_readonly", f"数据目录不可写：{data}", "修正目录属主和权限（运行门户的账号需可写）。")]
    free = shutil.disk_usage(data).free
    if free < MIN_FREE_BYTES:
        return [Finding("error", "disk_low", f"数据目录所在磁盘只剩 {free / 1024**3:.1f} GiB", "扩容或清理；视频证据单个可达 200 MB。")]
    return [Finding("ok", "disk", f"数据目录可写，剩余 {free / 1024**3:.0f} GiB")]


def check_calendar(ctx: Context) -> list[Finding]:
    from cases.clock import default_calendar

    year = ctx.now().year
    cal = default_calendar()
    missing = [y for y in (year, year + 1) if y not in cal.covered_years]
    if missing:
        return [Finding("warn", "holidays_missing", f"节假日安排未覆盖 {', '.join(map(str, missing))} 年：期限按周末估算",
                        "国务院公布后更新 data/holidays/cn.json（或 PORTAL_HOLIDAYS_FILE）。")]
    return [Finding("ok", "holidays", "节假日安排覆盖今明两年")]


CHECKS = (check_keys, check_settings, check_disk, check_database, check_redis, check_calendar)


def run(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for check in CHECKS:
        out += check(ctx)
    return out


def report(findings: list[Finding]) -> str:
    mark = {"ok": "正常", "warn": "警告", "error": "错误"}
    lines = []
    for f in findings:
        lines.append(f"[{mark[f.level]}] {f.message}" + (f"\n        → {f.fix}" if f.fix and f.level != "ok" else ""))
    errors = sum(f.level == "error" for f in findings)
    warns = sum(f.level == "warn" for f in findings)
    lines.append(f"共 {errors} 个错误、{warns} 个警告。" + ("请先修复错误再上线。" if errors else ""))
    return "\n".join(lines)


def keys_permissions_ok(path: Path) -> bool:
    return not stat.S_IMODE(path.stat().st_mode) & 0o077
