"""``python -m portal``: init, demo, migrate, serve, verify-certificate, cleanup, audit, escalate,
triage-feedback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from portal.config import Settings


def _session(settings: Settings):  # type: ignore[no-untyped-def]
    from portal.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    return engine, make_sessionmaker(engine)()


def cmd_migrate(settings: Settings) -> int:
    from portal.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    upgrade(settings.database_url)
    print("数据库结构已更新到最新版本")
    return 0


def cmd_init(settings: Settings, quiet: bool = False) -> tuple[int, str | None]:
    from portal.provisioning import init_instance

    cmd_migrate(settings)
    engine, db = _session(settings)
    with db:
        result = init_instance(db, settings.data_dir)
    engine.dispose()
    if not quiet:
        if result.recovery_private_hex:
            print("=" * 72)
            print("离线恢复密钥（只显示这一次）：请打印后离线保管，不要保存在服务器上。")
            print("丢失全部工作人员密码时，只有它能恢复各部门的解密密钥。")
            print(result.recovery_private_hex)
            print("=" * 72)
        print(f"实例目录：{settings.data_dir}；新建部门：{', '.join(result.departments_created) or '无'}")
    return 0, result.recovery_private_hex


def cmd_demo(settings: Settings, as_json: bool) -> int:
    from portal.provisioning import demo_accounts, init_instance

    cmd_migrate(settings) if not as_json else _quiet_migrate(settings)
    engine, db = _session(settings)
    with db:
        result = init_instance(db, settings.data_dir)
        logins = demo_accounts(db, settings.data_dir, result.recovery_private_hex)
    engine.dispose()
    if as_json:
        print(json.dumps({"data_dir": str(settings.data_dir), "departments": len(result.departments_created),
                          "recovery_key": result.recovery_private_hex, "logins": logins}, ensure_ascii=False, indent=2))
        return 0
    if result.recovery_private_hex:
        print(f"演示实例的离线恢复密钥（仅演示用）：{result.recovery_private_hex}")
    print("演示部门：区安委会办公室 + taxonomy.json 中的14个部门")
    print("演示账号（登录需密码 + 动态验证码：把 TOTP 密钥加入手机验证器，或运行 python -m portal totp 密钥）：")
    for login in logins:
        dept = f"，{login['department_name']}" if login["department_name"] else ""
        print(f"  {login['role_name']}{dept}: 用户名 {login['username']}  密码 {login['password']}  TOTP密钥 {login['totp_secret']}")
    print("举报入口：http://127.0.0.1:8000/report   查询入口：http://127.0.0.1:8000/follow-up")
    print("工作台：http://127.0.0.1:8000/staff/login")
    return 0


def _quiet_migrate(settings: Settings) -> None:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        cmd_migrate(settings)


def cmd_serve(settings: Settings, host: str, port: int, workers: int) -> int:
    from portal.migrate import is_current

    engine, db = _session(settings)
    db.close()
    if not is_current(engine, settings.database_url):
        print("数据库结构不是最新版本：请先运行 `python -m portal migrate`（或 demo / init）", file=sys.stderr)
        return 2
    if settings.database_url.startswith("sqlite") and workers > 1:
        print("提示：SQLite 仅适合演示和单机小规模使用；生产环境请使用 PostgreSQL + Redis。", file=sys.stderr)
    args = [
        sys.executable, "-m", "gunicorn", "wsgi:app",
        "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", "4",
        "--timeout", "120", "--graceful-timeout", "30",
        # Access log without client address, user agent, referrer or query string.
        "--access-logfile", "-", "--access-logformat", '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        "--error-logfile", "-", "--logger-class", "portal.gunicorn_logging.RedactingLogger",
        "--chdir", str(Path(__file__).resolve().parent.parent),
    ]
    os.environ.setdefault("PORTAL_DATA_DIR", str(settings.data_dir))
    os.execv(sys.executable, args)


def cmd_verify_certificate(settings: Settings, path: str) -> int:
    from secure_store import certificate, instance

    try:
        cert = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"无法读取凭证文件：{exc}", file=sys.stderr)
        return 2
    trusted = None
    try:
        trusted = instance.load(settings.data_dir).signing_key.public_key()
    except instance.InstanceNotInitialised:
        print("（未找到本实例密钥，仅核验凭证自身签名）", file=sys.stderr)
    result = certificate.verify(cert if isinstance(cert, dict) else {}, trusted)
    print(("有效：" if result.valid else "无效：") + result.message)
    if result.valid:
        print(f"举报编号 {cert['report_number']}，提交时间 {cert['filed_at']}，内容摘要 {cert['content_sha256']}")
    return 0 if result.valid else 1


def cmd_cleanup(settings: Settings) -> int:
    from intake import housekeeping
    from secure_store.files import FileStore

    engine, db = _session(settings)
    with db:
        done = housekeeping.run(db, FileStore(settings.data_dir / "store"))
    engine.dispose()
    print(f"清理：过期上传暂存 {done['spools']} 个，过期防刷记录 {done['pow_spent']} 条，过期查询会话 {done['sessions']} 个，"
          f"无主加密文件 {done['orphans']} 个")
    return 0


def cmd_audit(settings: Settings, action: str, expected: str | None) -> int:
    """``audit verify [--expect SEQ:HASH]`` checks the whole chain; ``audit head`` prints the head
    to record outside the server (it lets a later verify detect a deleted tail)."""
    from audit import chain
    from secure_store import instance

    key = chain.derive_audit_key(instance.load(settings.data_dir).mac_key)
    engine, db = _session(settings)
    with db:
        head = chain.head(db)
        if action == "head":
            print(f"{head[0]}:{head[1]}" if head else "（审计日志为空）")
            return 0
        exp = None
        if expected:
            seq, _, digest = expected.partition(":")
            exp = (int(seq), digest)
        result = chain.verify(db, key, expected_head=exp)
    engine.dispose()
    if result.ok:
        print(f"审计日志完好：共 {result.count} 条，链头 {result.head_seq}:{result.head_hash}")
        return 0
    print(f"审计日志被篡改或不完整（共 {result.count} 条）：", file=sys.stderr)
    for p in result.problems:
        print("  " + p, file=sys.stderr)
    return 1


def cmd_escalate(settings: Settings) -> int:
    """Run from cron (e.g. hourly): raise late cases to the head and the coordinating office, and
    forfeit rewards whose claim window has closed (unless an extension request is pending)."""
    from audit.chain import derive_audit_key
    from cases.rewards.claims import forfeit_expired
    from cases.supervision import escalate
    from models.base import utcnow
    from secure_store import instance

    engine, db = _session(settings)
    with db:
        result = escalate(db, utcnow())
        forfeited = forfeit_expired(db, derive_audit_key(instance.load(settings.data_dir).mac_key))
    engine.dispose()
    print(f"预警：提醒部门负责人 {result.to_head} 件，报区安委会办公室 {result.to_coordination} 件；逾期未领取奖励 {forfeited} 笔")
    return 0


def cmd_purge(settings: Settings, dry_run: bool) -> int:
    """Run from cron (daily): destroy the content and keys of closed reports past their retention."""
    from audit.chain import derive_audit_key
    from cases import retention
    from secure_store import instance
    from secure_store.files import FileStore

    engine, db = _session(settings)
    with db:
        done = retention.run(db, FileStore(settings.data_dir / "store"), derive_audit_key(instance.load(settings.data_dir).mac_key),
                             dry_run=dry_run)
    engine.dispose()
    verb = "将销毁" if dry_run else "已销毁"
    detail = "，".join(f"{k} {v} 件" for k, v in sorted(done.items())) or "无"
    print(f"{verb}保存期满的举报：{sum(done.values())} 件（{detail}）")
    return 0


def cmd_backup(settings: Settings, out: str) -> int:
    """An encrypted backup only the offline recovery key opens (see portal/backup.py)."""
    from portal.backup import BackupError, create

    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"错误：{out} 已存在，不会覆盖。", file=sys.stderr)
        return 2
    try:
        with os.fdopen(fd, "wb") as fh:
            manifest = create(settings.data_dir, settings.database_url, fh)
    except BackupError as exc:
        os.unlink(out)
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已写入加密备份 {out}（数据库 {manifest['database']}，文件 {manifest['files']} 个）。恢复须使用离线恢复密钥。")
    return 0


def cmd_restore(settings: Settings, path: str) -> int:
    """Restore a backup into an empty PORTAL_DATA_DIR and DATABASE_URL; the recovery key on stdin."""
    from portal.backup import BackupError, restore

    key = sys.stdin.readline().strip()
    try:
        with open(path, "rb") as fh:
            manifest = restore(fh, key, settings.data_dir, settings.database_url)
    except FileNotFoundError:
        print(f"错误：找不到备份文件 {path}", file=sys.stderr)
        return 2
    except BackupError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已恢复 {manifest['created_at']} 的备份到 {settings.data_dir}。请运行 `python -m portal migrate` 和 `python -m portal doctor`。")
    return 0


def _audit_key(settings: Settings) -> bytes:
    from audit.chain import derive_audit_key
    from secure_store import instance

    return derive_audit_key(instance.load(settings.data_dir).mac_key)


def cmd_create_admin(settings: Settings, username: str, display_name: str) -> int:
    from accounts.auth import LoginError
    from portal.provisioning import create_admin

    engine, db = _session(settings)
    try:
        with db:
            password = create_admin(db, _audit_key(settings), username, display_name)
    except LoginError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"已创建管理员 {username}，临时密码（只显示这一次，首次登录须修改）：\n{password}")
    return 0


def cmd_grant_key(settings: Settings, department: str, username: str) -> int:
    """Key ceremony: the recovery key (stdin) opens a department key for its first key holder."""
    from accounts.auth import LoginError
    from portal.provisioning import grant_from_recovery

    key = sys.stdin.readline().strip()
    engine, db = _session(settings)
    try:
        with db:
            grant_from_recovery(db, _audit_key(settings), department, username, key)
    except LoginError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"已将 {department} 的部门密钥授予 {username}（已记入审计日志）。此后由其在工作台为本部门成员授权。")
    return 0


def cmd_doctor(settings: Settings, workers: int) -> int:
    """Check this deployment's configuration; exit 1 on any error (use it to gate a deploy)."""
    from portal.doctor import Context, report, run

    findings = run(Context(settings, workers))
    print(report(findings))
    return 1 if any(f.level == "error" for f in findings) else 0


def cmd_triage_feedback(settings: Settings, out: str | None, train: bool, artifacts: str | None,
                        data: str | None = None) -> int:
    """Staff corrections → triage training data, never as plaintext on disk.

    The offline recovery key is read from stdin (one line of hex), opens the coordinating office's
    key in memory, and that key opens every corrected report (``cases.triage_feedback``). With
    ``--out FILE`` the records are sealed with a fresh AES-256-GCM key printed once on stdout (give
    it to ``python -m triage train --feedback FILE`` on stdin); with ``--train`` the model is
    retrained in this process and saved to the artifact directory — nothing else is written."""
    from cases.triage_feedback import collect
    from models.department import COORDINATION_CODE
    from portal.provisioning import department_private_from_recovery
    from triage import feedback, model
    from triage.data import load_corpus, merge_feedback

    recovery_hex = sys.stdin.readline().strip()
    if not recovery_hex:
        print("请在标准输入中提供离线恢复密钥（十六进制一行）", file=sys.stderr)
        return 2
    try:
        current = model.load(artifacts)
    except (OSError, ValueError):
        current = None
    engine, db = _session(settings)
    try:
        with db:
            try:
                private = department_private_from_recovery(db, COORDINATION_CODE, recovery_hex)
            except Exception:  # noqa: BLE001 - wrong or malformed key: say so, print nothing else
                print("恢复密钥无效，无法打开区安委会办公室的密钥", file=sys.stderr)
                return 2
            records, summary = collect(db, private, sector_scores=feedback.sector_scorer(current) if current else None)
    finally:
        engine.dispose()
    print(f"更正反馈：检查 {summary.scanned} 件，改派 {summary.department} 件，非安全生产 {summary.out_of_scope} 件，"
          f"原判非安全生产 {summary.in_scope} 件，无法解密 {summary.unreadable} 件；共 {len(records)} 条", file=sys.stderr)
    if train:
        art = model.train(merge_feedback(load_corpus(data), records), log=lambda m: print(m, file=sys.stderr))
        path = model.save(art, artifacts)
        print(f"已用语料 + {len(records)} 条更正重新训练：{path}（model_version {art.model_version}）", file=sys.stderr)
        return 0
    assert out is not None
    key = feedback.new_key()
    target = Path(out)
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(feedback.seal(records, key))
    os.replace(tmp, target)
    print(f"已写入加密的反馈文件 {target}。解密密钥只显示这一次（训练时经标准输入提供）：", file=sys.stderr)
    print(key.hex())
    return 0


def cmd_notices(settings: Settings, kind: str, period: str, fmt: str, out: str, weights: str | None) -> int:
    """周排名 / 月通报 as XLSX or PDF (the same document as the staff screen's download)."""
    from cases.calendar import today_cst
    from oversight import notices
    from oversight.ranking import Period, PeriodError, Weights

    try:
        p = Period.parse(period)
        if p.kind != kind:
            raise PeriodError("周排名的期间应写作 2026-W49，月通报的期间应写作 2026-11。")
        w = Weights.parse(weights) if weights else Weights.from_env()
    except PeriodError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    engine, db = _session(settings)
    with db:
        notice = notices.build(db, p, today_cst(), w)
        body = notices.to_pdf(notice) if fmt == "pdf" else notices.to_xlsx(notice)
        from audit.chain import Actor, derive_audit_key, record
        from secure_store import instance

        key = derive_audit_key(instance.load(settings.data_dir).mac_key)
        record(db, key, actor=Actor.system(), action="export",
               details={"what": f"notice_{kind}", "period": p.label, "format": fmt})
        db.commit()
    engine.dispose()
    Path(out).write_bytes(body)
    print(f"已生成 {notice.title}：{out}（{len(body)} 字节）")
    return 0


def cmd_oversight_refresh(settings: Settings, days: int, full: bool) -> int:
    """Cron: every ~10 minutes for recent days, nightly with --full (see oversight/rollup.py)."""
    import time

    from cases.calendar import today_cst
    from oversight import rollup

    engine, db = _session(settings)
    t0 = time.perf_counter()
    with db:
        rows = rollup.refresh(db, today_cst(), None if full else days)
    engine.dispose()
    scope = "全部" if full else f"最近 {days} 天"
    print(f"统计汇总表已刷新（{scope}）：{rows} 行，用时 {time.perf_counter() - t0:.1f} 秒")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal", description="安全生产举报平台")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init", help="创建实例密钥、数据库结构和部门（生产部署执行一次）")
    demo = sub.add_parser("demo", help="创建演示部门和每个角色的演示账号，并打印登录信息")
    demo.add_argument("--json", action="store_true", help="以JSON输出（机器可读）")
    sub.add_parser("migrate", help="把数据库结构升级到最新版本")
    serve = sub.add_parser("serve", help="用 gunicorn 运行网站")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("PORTAL_WORKERS", "2")))
    vc = sub.add_parser("verify-certificate", help="核验立案凭证的签名")
    vc.add_argument("file")
    sub.add_parser("cleanup", help="清理过期的上传暂存、防刷记录和查询会话")
    audit = sub.add_parser("audit", help="审计日志：verify 核验哈希链，head 打印链头（请在服务器外记录）")
    audit.add_argument("action", choices=["verify", "head"])
    audit.add_argument("--expect", help="此前记录的链头 SEQ:HASH，用于发现被删除的末尾记录")
    sub.add_parser("escalate", help="临近期限和超期案件预警、逾期未领取奖励的处理（由定时任务运行）")
    backup = sub.add_parser("backup", help="写出加密备份（数据库、密钥、加密文件），只有离线恢复密钥能解开")
    backup.add_argument("--out", required=True, help="备份文件路径（不会覆盖已有文件）")
    restore = sub.add_parser("restore", help="把备份恢复到空的数据目录和空数据库；从标准输入读取恢复密钥")
    restore.add_argument("file")
    purge = sub.add_parser("purge", help="销毁保存期满的已办结举报的内容、附件和密钥（由定时任务每日运行）")
    purge.add_argument("--dry-run", action="store_true", help="只列出将被销毁的数量，不做任何改动")
    ca = sub.add_parser("create-admin", help="密钥仪式：创建第一个系统管理员账号（打印一次临时密码）")
    ca.add_argument("username")
    ca.add_argument("--name", default="", help="显示名")
    gk = sub.add_parser("grant-key", help="密钥仪式：用离线恢复密钥（从标准输入读取）把部门密钥授予该部门第一位成员")
    gk.add_argument("--department", required=True, help="部门代码，如 fire、coordination、finance")
    gk.add_argument("--username", required=True)
    doctor = sub.add_parser("doctor", help="检查部署配置（密钥权限、数据库、Redis、时钟、磁盘），逐项说明问题和修复方法")
    doctor.add_argument("--workers", type=int, default=int(os.environ.get("PORTAL_WORKERS", "2")),
                        help="计划运行的 gunicorn 工作进程数（默认 PORTAL_WORKERS 或 2）")
    tf = sub.add_parser("triage-feedback", help="把工作人员改派的举报加密导出为分诊训练反馈（恢复密钥从标准输入读入）")
    tf_mode = tf.add_mutually_exclusive_group(required=True)
    tf_mode.add_argument("--out", help="加密反馈文件的路径（密钥打印在标准输出）")
    tf_mode.add_argument("--train", action="store_true", help="不写文件，直接在内存中用语料 + 反馈重新训练")
    tf.add_argument("--artifacts", default=None, help="分诊模型目录（默认 $TRIAGE_ARTIFACTS）")
    tf.add_argument("--data", default=None, help="--train 使用的语料目录（默认 data/）")
    orf = sub.add_parser("oversight-refresh", help="刷新统计汇总表（定时任务：每10分钟刷新近期，每晚 --full 全量）")
    orf.add_argument("--days", type=int, default=120, help="刷新最近多少天提交的举报（默认120）")
    orf.add_argument("--full", action="store_true", help="全量重建")
    nt = sub.add_parser("notices", help="生成周排名（weekly）或月通报（monthly）文档：XLSX 或 PDF")
    nt.add_argument("kind", choices=["weekly", "monthly"])
    nt.add_argument("--period", required=True, help="周：2026-W49；月：2026-11")
    nt.add_argument("--format", choices=["xlsx", "pdf"], default="xlsx")
    nt.add_argument("--out", required=True, help="输出文件")
    nt.add_argument("--weights", help="排名权重，如 rate=0.5,overdue=0.3,time=0.2（默认取 PORTAL_RANK_WEIGHTS）")
    totp = sub.add_parser("totp", help="打印某个 TOTP 密钥当前的6位验证码（仅用于演示账号）")
    totp.add_argument("secret")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.cmd == "init":
        return cmd_init(settings)[0]
    if args.cmd == "demo":
        return cmd_demo(settings, args.json)
    if args.cmd == "migrate":
        return cmd_migrate(settings)
    if args.cmd == "serve":
        return cmd_serve(settings, args.host, args.port, args.workers)
    if args.cmd == "verify-certificate":
        return cmd_verify_certificate(settings, args.file)
    if args.cmd == "cleanup":
        return cmd_cleanup(settings)
    if args.cmd == "audit":
        return cmd_audit(settings, args.action, args.expect)
    if args.cmd == "escalate":
        return cmd_escalate(settings)
    if args.cmd == "backup":
        return cmd_backup(settings, args.out)
    if args.cmd == "restore":
        return cmd_restore(settings, args.file)
    if args.cmd == "purge":
        return cmd_purge(settings, args.dry_run)
    if args.cmd == "create-admin":
        return cmd_create_admin(settings, args.username, args.name)
    if args.cmd == "grant-key":
        return cmd_grant_key(settings, args.department, args.username)
    if args.cmd == "doctor":
        return cmd_doctor(settings, args.workers)
    if args.cmd == "triage-feedback":
        return cmd_triage_feedback(settings, args.out, args.train, args.artifacts, args.data)
    if args.cmd == "oversight-refresh":
        return cmd_oversight_refresh(settings, args.days, args.full)
    if args.cmd == "notices":
        return cmd_notices(settings, args.kind, args.period, args.format, args.out, args.weights)
    if args.cmd == "totp":
        import pyotp

        print(pyotp.TOTP(args.secret.strip().replace(" ", "")).now())
        return 0
    return 2
