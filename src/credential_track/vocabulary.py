"""The presentation vocabulary: every code the product has, in words.

People read labels, machines read codes (DESIGN.md, "Words"). This module is
the one place a code becomes words: for each kind of code (status, refusal
reason, event action, credential type, route, province, station kind, ticket
state, …) one table gives its Chinese and English label side by side, so a
code without its Chinese is visible at a glance and caught by a test
(tests/test_vocabulary.py). Templates (`label`, `status_text`, …), the
JSON API's `message` and label fields, exports, printed documents, the CLI
and the station JavaScript (through `catalogue`, which the page embeds) all
take their words from here; filters take a label or a code (`codes_for`).

`lang` is "zh" or "en"; None means the reader's language (the request's,
or the CLI's: i18n.current_lang). An unknown code is shown as it is.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

from .domain import regions
from .domain.status import EventAction

Pair = tuple[str, str]  # (Chinese, English)

# ---- the chain: statuses, actions, results, refusals -------------------------------

STATUS: dict[str, Pair] = {
    "registered": ("已登记", "registered"),
    "received": ("已交接", "received"),
    "captured": ("已采集", "captured"),
    "accepted": ("已收寄", "accepted"),
    "bagged": ("已装袋", "bagged"),
    "dispatched": ("已封发", "dispatched"),
    "in_transit": ("运输中", "in transit"),
    "arrived": ("已到达", "arrived"),
    "out_for_delivery": ("派送中", "out for delivery"),
    "delivery_failed": ("投递失败", "delivery failed"),
    "delivered": ("已妥投", "delivered"),
    "returned": ("已退回", "returned"),
    "withdrawn": ("已撤回", "withdrawn"),
}

# every member of domain.status.EventAction (a test checks none is missing)
ACTION: dict[str, Pair] = {
    "handover": ("交接", "Handover"),
    "capture": ("信息采集", "Data capture"),
    "accept": ("收寄", "Acceptance"),
    "bag": ("装袋", "Bagging"),
    "unbag": ("出袋", "Remove from bag"),
    "seal": ("封袋", "Sealing"),
    "load": ("装车", "Loading"),
    "arrive": ("到达", "Arrival"),
    "pull": ("撤出作废件", "Pull revoked"),
    "import": ("按清单登记", "Registered from the manifest"),
    "update": ("信息已修改", "Data changed"),
    "open_bag": ("开袋", "Bag opened"),
    "create_trip": ("新建车次", "Trip created"),
    "depart": ("押运专车发车", "Departed on the escorted vehicle"),
    "out_for_delivery": ("出班投递", "Out for delivery"),
    "delivered": ("妥投", "Delivered"),
    "delivery_failed": ("投递失败", "Delivery failed"),
    "returned": ("退回", "Returned"),
    "receive_batch": ("整批交接", "Batch received"),
    "close_batch": ("交接批次关闭", "Batch closed"),
    "revoke": ("作废", "Revoked"),
    "intercept": ("申请拦截", "Intercept requested"),
    "correct": ("更正", "Corrected"),
    "hold": ("暂扣", "Put on hold"),
    "release": ("解除暂扣", "Released from hold"),
    "undo": ("撤销扫描", "Scan undone"),
    "reopen": ("重新开袋", "Bag reopened"),
    "reveal": ("查看个人信息", "Personal data revealed"),
    "export": ("导出", "Export"),
    "audit_export": ("导出审计日志", "Audit log export"),
    "recipient_read": ("读取收件人信息", "Recipient data read"),
    "label_download": ("下载面单或清单", "Labels or manifest downloaded"),
    "personal_search": ("按电话或姓名查询", "Search by phone or name"),
    "user_create": ("新建用户", "User created"),
    "user_activate": ("启用用户", "User activated"),
    "user_deactivate": ("停用用户", "User deactivated"),
    "user_role": ("更改角色", "Role changed"),
    "user_password": ("更改密码", "Password changed"),
    "user_logout_all": ("全部登出", "Logged out everywhere"),
    "user_unlock": ("解锁用户", "User unlocked"),
    "login_locked": ("登录锁定", "Login locked"),
    "token_create": ("新建令牌", "Token created"),
    "token_revoke": ("吊销令牌", "Token revoked"),
    "token_expire": ("令牌到期", "Token expired"),
    "station_update": ("工位设置变更", "Station settings changed"),
    "db_restore": ("恢复数据库", "Database restored"),
    "import_undone": ("撤销未完成的导入", "Unfinished import undone"),
    "login": ("登录", "Signed in"),
    "logout": ("退出登录", "Signed out"),
}

# what a station says when a scan of each action went through
ACTION_DONE: dict[str, Pair] = {
    "handover": ("交接已接收。", "Received at handover."),
    "capture": ("已采集：运单号已绑定。", "Captured: waybill bound."),
    "accept": ("已收寄。", "Accepted into EMS."),
    "bag": ("已装袋。", "Put in the bag."),
    "unbag": ("已从总包取出。", "Taken out of the bag."),
    "seal": ("总包已封袋，袋内邮件已封发。", "Bag sealed: its items are dispatched."),
    "load": ("总包已装车。", "Bag loaded onto the trip."),
    "arrive": ("总包已到达，封志完好。", "Bag arrived with its seal intact."),
    "pull": ("已撤出流程。", "Pulled out of the flow."),
}

RESULT: dict[str, Pair] = {
    "ok": ("成功", "OK"),
    "rejected": ("拒绝", "refused"),
}

# refusal reasons, short (tables, counts) …
REASON: dict[str, Pair] = {
    "unknown_code": ("未知编码", "unknown code"),
    "invalid_waybill": ("运单号无效", "invalid waybill number"),
    "waybill_in_use": ("运单号已被占用", "waybill number in use"),
    "wrong_stage": ("环节不对", "wrong stage"),
    "already_done": ("已处理过", "already done"),
    "revoked": ("证件已作废", "revoked"),
    "on_hold": ("已暂扣", "on hold"),
    "not_allowed_here": ("本工位不可操作", "not allowed at this station"),
    "wrong_route": ("路向错误", "wrong route"),
    "bag_not_open": ("总包未开", "bag not open"),
    "bag_sealed": ("总包已封袋", "bag sealed"),
    "trip_not_loading": ("车次不在装车", "trip not loading"),
    "seal_mismatch": ("封志不符", "seal mismatch"),
    "missing_context": ("缺少信息", "something missing"),
    # handover reconciliation: a code scanned in that belongs to another batch,
    # an item of the manifest never scanned in
    "other_batch": ("属于其他批次", "belongs to another batch"),
    "not_received": ("未接收", "not received"),
}

# … and as the sentence an operator reads: what happened and what to do
REASON_HELP: dict[str, Pair] = {
    "unknown_code": ("未知编码：系统中没有这个号码。", "Unknown code: this number is not in the system."),
    "invalid_waybill": ("运单号无效：校验位错误。请勿使用此面单。",
                        "Invalid waybill number: the check digit is wrong. Do not use this label."),
    "waybill_in_use": ("该运单号已绑定其他邮件，请换一张新面单。",
                       "This waybill number is already bound to another item. Use a new label."),
    "wrong_stage": ("环节不对：该邮件还不能做这一步。", "Wrong stage: this item is not ready for this step."),
    "already_done": ("已处理过：此前已计数，请继续。", "Already done: this scan was counted before. Carry on."),
    "revoked": ("证件已作废：请将此件放入红色托盘。", "Revoked credential: put this item in the red tray."),
    "on_hold": ("已暂扣：请将此件放入暂扣托盘并呼叫主管。",
                "On hold: put this item in the hold tray and call a supervisor."),
    "not_allowed_here": ("本工位不能执行此操作。", "This station may not perform this action."),
    "wrong_route": ("路向错误：此件不属于这个总包。", "Wrong route: this item does not belong in this bag."),
    "bag_not_open": ("该总包已不再接收邮件。", "This bag is not open for items any more."),
    "bag_sealed": ("该总包已封袋：请开新袋或请主管重新开袋。",
                   "This bag is sealed: open a new bag or ask a supervisor to reopen it."),
    "trip_not_loading": ("该车次不在装车中：已发车或已到达。",
                         "This trip is not loading: it has departed or arrived."),
    "seal_mismatch": ("封志不符：立即停止，不要拆袋，呼叫主管。",
                      "Seal mismatch: stop, do not open the bag, call a supervisor."),
    "missing_context": ("此次扫描缺少信息（总包、车次、封志或运单号）。",
                        "Something is missing for this scan (bag, trip, seal or waybill)."),
}

BAG_STATE: dict[str, Pair] = {
    "open": ("开袋中", "open"),
    "sealed": ("已封袋", "sealed"),
    "loaded": ("已装车", "loaded"),
    "in_transit": ("运输中", "in transit"),
    "arrived": ("已到达", "arrived"),
}

TRIP_STATE: dict[str, Pair] = {
    "loading": ("装车中", "loading"),
    "departed": ("已发车", "departed"),
    "arrived": ("已到达", "arrived"),
}

# a handover batch's discrepancies: its items never received, codes received beyond it
DISCREPANCY_KIND: dict[str, Pair] = {
    "missing": ("缺件", "missing"),
    "extra": ("多出", "extra"),
}

BATCH_STATE: dict[str, Pair] = {
    "open": ("进行中", "open"),
    "closed": ("已关闭", "closed"),
}

# the dashboard's and the daily report's stages (event actions seen as steps)
STAGE: dict[str, Pair] = {
    "handover": ("交接", "Handover"),
    "capture": ("信息采集", "Data capture"),
    "accept": ("收寄", "Acceptance"),
    "bag": ("装袋", "Bagging"),
    "seal": ("封发", "Sealing"),
    "depart": ("专车发运", "Departure"),
    "arrive": ("到达", "Arrival"),
    "out_for_delivery": ("出班投递", "Out for delivery"),
    "delivered": ("妥投", "Delivered"),
}

EXCEPTION: dict[str, Pair] = {
    "missing_at_handover": ("交接缺件", "Missing at handover"),
    "held": ("暂扣", "On hold"),
    "revoked": ("已作废", "Revoked"),
    "intercept": ("待拦截", "To intercept"),
    "seal_mismatch": ("封志不符", "Seal mismatches"),
    "delivery_failed": ("投递失败", "Delivery failed"),
    "returned": ("退回", "Returned"),
    "stuck": ("滞留", "Stuck"),
}

SERVICE_FIGURE: dict[str, Pair] = {
    "open_tickets": ("未结工单", "Open tickets"),
    "tickets_sla_breached": ("超时工单", "Tickets past their SLA"),
    "outreach_open": ("待外呼任务", "Outreach tasks open"),
    "outreach_sla_breached": ("超时外呼任务", "Outreach tasks past their SLA"),
    "outreach_done": ("已完成外呼任务", "Outreach tasks done"),
}

# ---- people, places, stations -------------------------------------------------------------

ROLE: dict[str, Pair] = {
    "admin": ("系统管理员", "administrator"),
    "supervisor": ("主管", "supervisor"),
    "operator": ("工位操作员", "station operator"),
    "agent": ("客服坐席", "desk agent"),
    "organizer": ("主办方", "organizer"),
}

STATION_KIND: dict[str, Pair] = {
    "work": ("作业工位", "work station"),
    "desk": ("客服席", "service desk"),
    "hotline": ("客服专线", "hotline"),
    "tech": ("技术支持", "technical support"),
}

TOKEN_STATE: dict[str, Pair] = {
    "active": ("有效", "active"),
    "expired": ("已过期", "expired"),
    "revoked": ("已吊销", "revoked"),
}

# the seed's credential types (seed/credential_types.csv); the database's
# table, where an administrator may add more, is read first (credential_type)
CREDENTIAL_TYPE: dict[str, Pair] = {
    "exhibitor": ("展商", "Exhibitor"),
    "buyer": ("采购商", "Buyer"),
    "media": ("媒体", "Media"),
    "staff": ("工作人员", "Staff"),
    "guest": ("嘉宾", "Guest"),
}

# ---- the customer-service desk -----------------------------------------------------------

NEXT_STEP: dict[str, Pair] = {
    "registered": ("等待主办方交接。", "Waiting for the organizer to hand it over."),
    "received": ("下一步：信息采集并打印面单。", "Next: data capture and a waybill label."),
    "captured": ("下一步：EMS收寄。", "Next: acceptance into EMS."),
    "accepted": ("下一步：按路向装入封发袋。", "Next: into a dispatch bag for its route."),
    "bagged": ("下一步：总包施封封发。", "Next: its bag is sealed and dispatched."),
    "dispatched": ("下一步：装上押运专车。", "Next: loaded onto the escorted vehicle."),
    "in_transit": ("押运途中；下一步：到达邮件处理中心。",
                   "On the escorted vehicle; next: arrival at the mail centre."),
    "arrived": ("已到邮件处理中心；下一步：安排投递。", "At the mail centre; next: out for delivery."),
    "out_for_delivery": ("投递员派送中；下一步：交到持证人手中。",
                         "With the courier; next: delivery to the holder."),
    "delivery_failed": ("投递未成功：与持证人约定再投或自取。",
                        "Delivery failed: arrange redelivery or pickup with the holder."),
    "delivered": ("已妥投，无需再处理。", "Delivered. Nothing more to do."),
    "returned": ("已退回：联系持证人重新寄递或安排自取。",
                 "Returned: contact the holder to re-send or arrange pickup."),
    "withdrawn": ("已因作废而撤出，不再投递。", "Withdrawn after revocation: it will not be delivered."),
}

CATEGORY: dict[str, Pair] = {
    "where_is_it": ("查询进度", "Where is it"),
    "address_change": ("修改地址", "Address change"),
    "wrong_data": ("信息有误", "Wrong data"),
    "lost_damaged": ("丢失或损坏", "Lost or damaged"),
    "complaint": ("投诉", "Complaint"),
    "other": ("其他", "Other"),
}

PRIORITY: dict[str, Pair] = {
    "urgent": ("紧急", "urgent"),
    "high": ("高", "high"),
    "normal": ("普通", "normal"),
    "low": ("低", "low"),
}

TICKET_STATE: dict[str, Pair] = {
    "open": ("待处理", "open"),
    "pending": ("等待回复", "waiting for a reply"),
    "resolved": ("已解决", "resolved"),
    "closed": ("已关闭", "closed"),
}

RULE: dict[str, Pair] = {
    "contact_problem": ("联系信息校验未通过", "Contact data failed validation"),
    "delivery_failed": ("投递失败：安排再投", "Delivery failed: arrange redelivery"),
    "returned": ("已退回寄件人", "Returned to sender"),
    "stuck": ("在同一环节停留过久", "Stuck in one status too long"),
    "intercept": ("已作废但已封发：需拦截", "Revoked but already dispatched: intercept"),
    "miss_opening": ("将赶不上开幕日", "Will miss opening day"),
}

OUTCOME: dict[str, Pair] = {
    "reached": ("已联系上", "reached"),
    "no_answer": ("无人接听", "no answer"),
    "wrong_number": ("号码错误", "wrong number"),
    "resolved": ("已解决", "resolved"),
}

TASK_STATE: dict[str, Pair] = {
    "open": ("待处理", "open"),
    "claimed": ("已认领", "claimed"),
    "closed": ("已关闭", "closed"),
}

# background work on the task queue (tasks/): kinds and states of a task
# record, the periodic tasks by name
JOB_KIND: dict[str, Pair] = {
    "import": ("清单导入", "manifest import"),
    "export": ("状态导出", "status export"),
    "report": ("每日报告", "daily report"),
}

JOB_STATE: dict[str, Pair] = {
    "queued": ("排队中", "queued"),
    "running": ("运行中", "running"),
    "done": ("已完成", "done"),
    "failed": ("失败", "failed"),
}

PERIODIC_TASK: dict[str, Pair] = {
    "outreach_sweep": ("主动客服规则扫描", "outreach sweep"),
    "notify_send": ("发送到期的持证人消息", "send due holder messages"),
    "dashboard_refresh": ("刷新看板汇总", "dashboard summary refresh"),
    "import_recover": ("撤销中断的导入", "undo interrupted imports"),
    "daily_report": ("生成每日报告", "daily report"),
    "cleanup": ("清理过期任务及其文件", "clean-up of old tasks and their files"),
}

INTERCEPT_KIND: dict[str, Pair] = {
    "readdress": ("改寄新地址", "New address"),
    "self_pickup": ("自取", "Self-pickup"),
}

INTERCEPT_STATE: dict[str, Pair] = {
    "open": ("待处理", "open"),
    "done": ("已拦截", "intercepted"),
    "refused": ("已拒绝", "refused"),
}

# a hold's reason is free text, except these codes the desk sets
HOLD_REASON: dict[str, Pair] = {
    "self_pickup": ("自取", "Self-pickup"),
}

NOTIFICATION_KIND: dict[str, Pair] = {
    "dispatched": ("已寄出通知", "sent-by-EMS message"),
    "delivery_failed": ("投递失败通知", "delivery-failed message"),
    "ready_for_pickup": ("可自取通知", "ready-for-pickup message"),
}

NOTIFICATION_STATE: dict[str, Pair] = {
    "pending": ("待发送", "pending"),
    "sent": ("已发送", "sent"),
    "failed": ("发送失败", "failed"),
}

# what the import notes about an item's contact data (stored with the item,
# joined by "; "; domain/manifest.py writes these codes)
CONTACT_PROBLEM: dict[str, Pair] = {
    "landline only: no text messages": ("仅有固定电话：无法发送短信", "landline only: no text messages"),
    "address may be incomplete": ("地址可能不完整", "address may be incomplete"),
}

# what became of each EMS delivery event fed in (services/delivery.py)
DELIVERY_RESULT: dict[str, Pair] = {
    "applied": ("已应用", "applied"),
    "recorded": ("已记录", "recorded"),
    "duplicate": ("重复", "duplicate"),
    "rejected": ("已拒绝", "refused"),
    "error": ("格式错误", "malformed"),
}

IMPORT_STATE: dict[str, Pair] = {
    "running": ("导入中", "running"),
    "done": ("已完成", "done"),
    "failed": ("失败", "failed"),
}

# ---- fields: a refused form names the field in the reader's language ---------------------

FIELD: dict[str, Pair] = {
    "credential_no": ("证件号", "credential number"),
    "job": ("任务", "task"),
    "credential_type": ("证件类型", "credential type"),
    "holder_name": ("持证人", "holder's name"),
    "organization": ("单位", "organization"),
    "recipient_name": ("收件人", "recipient"),
    "recipient_phone": ("收件人电话", "recipient's phone"),
    "province": ("省份", "province"),
    "city": ("城市", "city"),
    "district": ("区县", "district"),
    "address": ("地址", "address"),
    "postcode": ("邮编", "postcode"),
    "waybill_no": ("运单号", "waybill number"),
    "waybill": ("运单号", "waybill number"),
    "status": ("状态", "status"),
    "route": ("路向", "route"),
    "station": ("工位", "station"),
    "site": ("场地", "site"),
    "batch": ("交接批次", "handover batch"),
    "bag": ("总包", "bag"),
    "trip": ("车次", "trip"),
    "seal": ("封志号", "seal number"),
    "code": ("编码", "code"),
    "counted": ("清点数量", "counted quantity"),
    "waybill_gap": ("运单号安全间隔", "waybill safety gap"),
    "op_stage": ("增员环节", "stage with more people"),
    "op_n": ("增加人数", "people added"),
    "op_from": ("增员开始时间", "people added from"),
    "trip_route": ("加开车次的路线", "route with more trips"),
    "trip_n": ("每天加开车次", "trips added per day"),
    "trip_from": ("加开车次开始时间", "trips added from"),
    "verdict": ("开幕日判断", "opening-day verdict"),
    "reason": ("原因", "reason"),
    "event_id": ("事件", "event"),
    "username": ("用户名", "user name"),
    "user": ("用户", "user"),
    "display_name": ("姓名", "name"),
    "password": ("密码", "password"),
    "role": ("角色", "role"),
    "token": ("令牌", "token"),
    "name": ("名称", "name"),
    "days": ("有效天数", "days"),
    "actions": ("操作", "actions"),
    "action": ("操作", "action"),
    "label_format": ("面单格式", "label format"),
    "vehicle": ("车牌号", "vehicle plate"),
    "driver": ("驾驶员", "driver"),
    "escorts": ("押运员", "escorts"),
    "origin": ("始发地", "origin"),
    "destination": ("目的地", "destination"),
    "category": ("类别", "category"),
    "priority": ("优先级", "priority"),
    "subject": ("主题", "subject"),
    "caller_number": ("来电号码", "caller number"),
    "assignee": ("处理人", "assignee"),
    "desk": ("客服席", "desk"),
    "line": ("专线", "line"),
    "state": ("状态", "state"),
    "note": ("备注", "note"),
    "body": ("内容", "text"),
    "body_zh": ("中文内容", "Chinese text"),
    "body_en": ("英文内容", "English text"),
    "header": ("表头", "header row"),
    "events": ("事件", "events"),
    "changes": ("修改内容", "changes"),
    "context": ("扫描信息", "scan context"),
    "before": ("游标", "cursor"),
    "title": ("标题", "title"),
    "outcome": ("结果", "outcome"),
    "retry_at": ("再次联系时间", "retry time"),
    "minutes": ("分钟", "minutes"),
    "seconds": ("秒", "seconds"),
    "duration_s": ("通话时长", "duration"),
    "task": ("外呼任务", "outreach task"),
    "reply": ("常用回复", "saved reply"),
    "ticket": ("工单", "ticket"),
    "request": ("拦截申请", "intercept request"),
    "call_id": ("通话记录", "call"),
    "q": ("搜索内容", "search text"),
    "rule": ("规则", "rule"),
    "view": ("视图", "view"),
    "file": ("文件", "file"),
    "since": ("起始日期", "from date"),
    "until": ("截止日期", "to date"),
    "date": ("日期", "date"),
    "result": ("结果", "result"),
    "item": ("邮件", "item"),
    "exception": ("异常类别", "exception"),
    "limit": ("条数", "limit"),
    "after": ("游标", "cursor"),
    "sort": ("排序", "sort"),
    "page": ("页码", "page"),
    "per_page": ("每页条数", "rows per page"),
    "format": ("格式", "format"),
    "selection": ("选择范围", "selection"),
    "personal": ("个人信息", "personal data"),
    "out": ("输出文件", "output file"),
    "backup": ("备份文件", "backup file"),
    "database": ("数据库", "database"),
    "session": ("登录会话", "session"),
    "nonce": ("扫描编号", "scan nonce"),
    "weight_g": ("重量（克）", "weight (g)"),
    "phone_last4": ("电话后四位", "phone's last 4 digits"),
}

# the columns of the exports (with FIELD): headers in the reader's language
COLUMN: dict[str, Pair] = {
    "id": ("编号", "no."),
    "at": ("时间", "time"),
    "kind": ("类别", "kind"),
    "hold": ("暂扣", "on hold"),
    "revoked": ("已作废", "revoked"),
    "intercept": ("待拦截", "to intercept"),
    "updated_at": ("最后变更时间", "last change"),
    "likely": ("最可能送达时间", "likely delivery"),
    "late": ("最晚送达时间", "late delivery"),
    "received_at": ("交接时间", "received at"),
    "captured_at": ("采集时间", "captured at"),
    "accepted_at": ("收寄时间", "accepted at"),
    "bagged_at": ("装袋时间", "bagged at"),
    "dispatched_at": ("封发时间", "dispatched at"),
    "in_transit_at": ("发运时间", "departed at"),
    "arrived_at": ("到达时间", "arrived at"),
    "out_for_delivery_at": ("出班投递时间", "out for delivery at"),
    "delivered_at": ("妥投时间", "delivered at"),
    "last_delivery_event": ("最近投递事件", "last delivery event"),
    "last_delivery_at": ("最近投递事件时间", "last delivery event at"),
    "last_delivery_details": ("最近投递事件详情", "last delivery event details"),
    "from": ("原状态", "from status"),
    "to": ("新状态", "to status"),
    "details": ("详情", "details"),
    "other_batch": ("所属批次", "its batch"),
    "row": ("行号", "row"),
    "column": ("列", "column"),
    "value": ("内容", "value"),
    "message": ("问题", "problem"),
    "scanned_at": ("扫描时间", "scanned at"),
}

# the forecast (services/forecast): opening-day verdicts and why an item has no date
VERDICT: dict[str, Pair] = {
    "on_time": ("按期", "on time"),
    "at_risk": ("有风险", "at risk"),
    "will_miss": ("将赶不上开幕日", "will miss opening day"),
    "no_date": ("无日期", "no date"),
    "delivered": ("已妥投", "delivered"),
    "returned": ("已退回", "returned"),
}

NO_DATE: dict[str, Pair] = {
    "on_hold": ("暂扣中：放行前没有预计日期。", "On hold: no date until it is released."),
    "revoked": ("已作废：不会投递。", "Revoked: it will not be delivered."),
    "final": ("已不在途中。", "No longer on its way."),
    "no_throughput": ("暂无日期：最近几小时这一环节无人作业。", "No date: nobody worked at this stage in the recent hours."),
    "no_history": ("暂无日期：走这条路线的邮件还太少，无法估计。",
                   "No date yet: not enough items have gone this way to estimate from."),
    "beyond_horizon": ("按今天的速度，两个月内没有日期。", "No date within the next two months at today's pace."),
}

TABLES: dict[str, dict[str, Pair]] = {
    "status": STATUS, "action": ACTION, "action_done": ACTION_DONE, "result": RESULT, "reason": REASON,
    "reason_help": REASON_HELP, "bag_state": BAG_STATE, "trip_state": TRIP_STATE, "batch_state": BATCH_STATE,
    "stage": STAGE, "exception": EXCEPTION, "service_figure": SERVICE_FIGURE, "role": ROLE,
    "station_kind": STATION_KIND, "token_state": TOKEN_STATE, "credential_type": CREDENTIAL_TYPE,
    "next_step": NEXT_STEP, "category": CATEGORY, "priority": PRIORITY, "ticket_state": TICKET_STATE,
    "rule": RULE, "outcome": OUTCOME, "task_state": TASK_STATE, "job_kind": JOB_KIND, "job_state": JOB_STATE,
    "periodic_task": PERIODIC_TASK, "intercept_kind": INTERCEPT_KIND,
    "intercept_state": INTERCEPT_STATE, "hold_reason": HOLD_REASON, "notification_kind": NOTIFICATION_KIND,
    "notification_state": NOTIFICATION_STATE, "contact_problem": CONTACT_PROBLEM, "import_state": IMPORT_STATE, "delivery_result": DELIVERY_RESULT,
    "discrepancy_kind": DISCREPANCY_KIND, "verdict": VERDICT, "no_date": NO_DATE,
    "field": FIELD, "column": COLUMN,
}


# ---- the reader's language ------------------------------------------------------------------

def reader_lang(lang: str | None = None) -> str:
    """`zh` or `en`: `lang` if given, else the request's (or the CLI's) language."""
    if lang in ("zh", "en"):
        return lang
    if lang:
        return "en" if lang.lower().startswith("en") else "zh"
    from .i18n import current_lang

    return current_lang()


def _pick(pair: Pair, lang: str | None) -> str:
    return pair[1] if reader_lang(lang) == "en" else pair[0]


# ---- codes kept in the database (credential types), read once in a while ------------------

_DB_TYPES: dict[str, tuple[float, dict[str, Pair]]] = {}
DB_SECONDS = 60.0


def _credential_types() -> dict[str, Pair]:
    """The credential-type table of the database in use (cached a minute),
    else the seed's."""
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover
        return CREDENTIAL_TYPE
    if not has_app_context() or "credtrack_engine" not in current_app.extensions:
        return CREDENTIAL_TYPE
    engine = current_app.extensions["credtrack_engine"]
    key = str(engine.url)
    hit = _DB_TYPES.get(key)
    if hit is not None and time.monotonic() - hit[0] < DB_SECONDS:
        return hit[1]
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from .models import CredentialType

    try:
        with engine.connect() as conn:
            rows = conn.execute(select(CredentialType.code, CredentialType.name_zh, CredentialType.name_en)).all()
    except SQLAlchemyError:  # not migrated yet
        return CREDENTIAL_TYPE
    table = {**CREDENTIAL_TYPE, **{code: (zh, en) for code, zh, en in rows}}
    _DB_TYPES[key] = (time.monotonic(), table)
    return table


def forget_cached_names() -> None:
    """Read the credential types from the database again on the next use."""
    _DB_TYPES.clear()


def table(kind: str) -> dict[str, Pair]:
    """The (Chinese, English) labels of every code of `kind`."""
    if kind == "credential_type":
        return _credential_types()
    if kind == "route":
        return ROUTES
    return TABLES[kind]


# ---- labels -----------------------------------------------------------------------------------

def label(kind: str, code, lang: str | None = None) -> str:
    """The label of `code` in the reader's language (`code` itself when the
    vocabulary has none; "" for None)."""
    if code is None or code == "":
        return ""
    code = str(code)
    if kind == "route":
        return route_label(code, lang)
    if kind == "province":
        return province_label(code, lang)
    if kind == "contact_problem":
        return contact_problem_text(code, lang)
    pair = table(kind).get(code)
    return _pick(pair, lang) if pair else code


def state_label(code, action: str | None = None, lang: str | None = None) -> str:
    """The from/to of an event in words: an item's status, or the state of
    the bag, trip or batch the event moved (told apart by its action)."""
    if code is None or code == "":
        return ""
    code = str(code)
    if action in ("receive_batch", "close_batch") and code in BATCH_STATE:
        return label("batch_state", code, lang)
    if code in STATUS:
        return label("status", code, lang)
    if action in ("create_trip", "depart") and code in TRIP_STATE:
        return label("trip_state", code, lang)
    for kind in ("bag_state", "trip_state", "batch_state"):
        if code in TABLES[kind]:
            return label(kind, code, lang)
    return code


def bilingual(kind: str, code) -> str:
    """`已封袋 sealed`: both labels, for the printed documents and the daily
    report that go to Chinese and foreign readers alike."""
    if code is None or code == "":
        return ""
    zh, en = label(kind, code, "zh"), label(kind, code, "en")
    return zh if zh == en else f"{zh} {en}"


def status_text(code, lang: str | None = None) -> str:
    return label("status", code, lang)


def action_text(code, lang: str | None = None) -> str:
    """An event's action in words (scan actions as the stations say them)."""
    return label("action", code, lang)


event_text = action_text


def reason_text(code, lang: str | None = None) -> str:
    return label("reason", code, lang)


def role_text(code, lang: str | None = None) -> str:
    return label("role", code, lang)


def field_label(name, lang: str | None = None) -> str:
    """A form or file field in words: `recipient_phone` → 收件人电话."""
    if not name:
        return ""
    base = str(name).split(".")[-1].split("[")[0]
    return label("field", base, lang)


def error_text(exc, lang: str | None = None) -> str:
    """A refused request as one line: the field in words, then the message."""
    message = getattr(exc, "message", None) or str(exc)
    field = getattr(exc, "field", None)
    name = field_label(field, lang) if field else ""
    if not name or name.casefold() in message.casefold():
        return message  # the message names its field already
    sep = ": " if reader_lang(lang) == "en" else "："
    return f"{name}{sep}{message}"


def header(column: str, lang: str | None = None) -> str:
    """An export's column header: `status` → 状态, `status_code` → 状态代码
    (the code columns kept for machines next to the labels for people)."""
    base, code = (column[:-5], True) if column.endswith("_code") else (column, False)
    pair = COLUMN.get(base) or FIELD.get(base)
    text = _pick(pair, lang) if pair else base
    if code:
        text += " (code)" if reader_lang(lang) == "en" else "代码"
    return text


def labels_map(kind: str, lang: str | None = None) -> dict[str, str]:
    """{code: label} of `kind` in one language, for labelling many rows at once."""
    lang = reader_lang(lang)
    if kind == "route":
        return {c: route_label(c, lang) for c in ROUTES}
    return {c: _pick(p, lang) for c, p in table(kind).items()}


# ---- routes and provinces -----------------------------------------------------------------

def _route_names() -> dict[str, Pair]:
    out: dict[str, Pair] = {}
    for p in regions.PROVINCES:
        if p.route != "SH":
            out[p.route] = (p.short, p.en)
    for code, (zh, en) in regions.SHANGHAI_ROUTES.items():
        out[code] = (zh, en)
    return out


ROUTES: dict[str, Pair] = _route_names()


def route_name(code, lang: str | None = None) -> str:
    """A route's name alone (`浙江`), "" for an unknown route."""
    pair = ROUTES.get(str(code or ""))
    return _pick(pair, lang) if pair else ""


def route_label(code, lang: str | None = None) -> str:
    """A route as people use it: the code beside its name (`ZJ 浙江`,
    `ZJ Zhejiang`), so that ZJ and JS on two bags cannot be confused."""
    if not code:
        return ""
    name = route_name(code, lang)
    return f"{code} {name}" if name else str(code)


def province_label(name, lang: str | None = None) -> str:
    """A province as stored (its official Chinese name); its English name on
    the English pages. A name that is not a province is shown as it is."""
    if not name:
        return ""
    if reader_lang(lang) != "en":
        return str(name)
    p = regions.find_province(str(name))
    return p.en if p else str(name)


def contact_problem_text(value, lang: str | None = None) -> str:
    """The import's notes on an item's contact data, in words."""
    if not value:
        return ""
    parts = [p.strip() for p in str(value).split(";") if p.strip()]
    sep = "; " if reader_lang(lang) == "en" else "；"
    return sep.join(_pick(CONTACT_PROBLEM[p], lang) if p in CONTACT_PROBLEM else p for p in parts)


def hold_reason_text(value, lang: str | None = None) -> str:
    """A hold's reason: free text, or a code the desk sets (self-pickup)."""
    return label("hold_reason", value, lang) if value else ""


# ---- scan answers -----------------------------------------------------------------------

def scan_message(action: str, result: str, reason: str | None, detail: str | None = None,
                 lang: str | None = None) -> str:
    """One sentence for the operator: what happened and what to do."""
    en = reader_lang(lang) == "en"
    if result == "ok":
        pair = ACTION_DONE.get(action)
        text = _pick(pair, lang) if pair else ("Done." if en else "完成。")
        if action == "capture" and detail:
            text += f" Waybill {detail}." if en else f"运单号 {detail}。"
        return text
    pair = REASON_HELP.get(reason or "")
    text = _pick(pair, lang) if pair else (reason or "")
    if reason == "wrong_route" and detail:
        text += (f" Its route is {route_label(detail, lang)}." if en
                 else f"此件路向为 {route_label(detail, lang)}。")
    return text


def next_step(status, lang: str | None = None) -> str:
    return label("next_step", status, lang)


# ---- filters take a label or a code ------------------------------------------------------

def _norm(text: str) -> str:
    return "".join(str(text).split()).casefold()


def codes_for(kind: str, text: str | None) -> list[str]:
    """The codes of `kind` that `text` names: the code itself, or its label
    in either language (case and blanks ignored). `交接` → [`handover`];
    text that names no code gives [] (the caller decides whether that is an
    error or, for free codes such as routes, the text as typed)."""
    if not text or not str(text).strip():
        return []
    key = _norm(text)
    if kind == "province":
        p = regions.find_province(str(text).strip())
        return [p.name] if p else []
    entries = table(kind)
    if kind == "route":
        found = [c for c, (zh, en) in entries.items()
                 if key in (_norm(c), _norm(zh), _norm(en), _norm(f"{c}{zh}"), _norm(f"{c}{en}"))]
        if not found:
            p = regions.find_province(str(text).strip())
            if p is not None:
                found = [c for c in entries if c == p.route or (p.route == "SH" and c.startswith("SH-"))]
        return found
    return [c for c, (zh, en) in entries.items() if key in (_norm(c), _norm(zh), _norm(en))]


def code_for(kind: str, text: str | None) -> str | None:
    """The one code `text` names (see codes_for), the text as typed when it
    names none, None for empty text."""
    if not text or not str(text).strip():
        return None
    found = codes_for(kind, text)
    return found[0] if len(found) == 1 else str(text).strip()


# ---- the catalogue the pages give their scripts ------------------------------------------

def catalogue(kinds: Iterable[str] = ("status", "reason", "reason_help", "action", "result", "bag_state",
                                      "trip_state", "credential_type", "route"),
              lang: str | None = None) -> dict[str, dict[str, str]]:
    """Labels of the given kinds in the reader's language, for a page's
    JavaScript (embedded as JSON: the scripts keep no words of their own)."""
    out = {}
    for kind in kinds:
        if kind == "route":
            out[kind] = {c: route_label(c, lang) for c in ROUTES}
        else:
            out[kind] = {c: _pick(p, lang) for c, p in table(kind).items()}
    return out


def missing_labels() -> list[str]:
    """Event actions without a label, and labels without one of their two
    languages (the vocabulary test asserts this is empty)."""
    out = [f"action:{a.value}" for a in EventAction if a.value not in ACTION]
    for kind, entries in TABLES.items():
        out += [f"{kind}:{c}" for c, (zh, en) in entries.items() if not zh.strip() or not en.strip()]
    return out


JINJA_GLOBALS = {
    "label": label, "bilingual": bilingual, "status_text": status_text, "action_text": action_text,
    "event_text": event_text, "reason_text": reason_text, "state_label": state_label, "role_text": role_text, "field_label": field_label,
    "route_label": route_label, "province_label": province_label, "contact_problem_text": contact_problem_text,
    "hold_reason_text": hold_reason_text, "next_step": next_step, "error_text": error_text,
    "category_text": lambda c: label("category", c), "priority_text": lambda c: label("priority", c),
    "ticket_state_text": lambda c: label("ticket_state", c), "rule_text": lambda c: label("rule", c),
    "outcome_text": lambda c: label("outcome", c), "task_state_text": lambda c: label("task_state", c),
    "verdict_text": lambda c: label("verdict", c),
    # reason codes like `no_throughput:capture`: the kind before the colon
    "no_date_text": lambda r: label("no_date", (r or "").split(":")[0]),
    "vocabulary_catalogue": catalogue,
}


# ---- notes the system writes on a ticket --------------------------------------------------

# stored in English as written (services/tickets.py composes them with
# system_note), shown in the reader's language by note_text; {fields} are
# field codes, {kind} an intercept kind, {state} an intercept state
SYSTEM_NOTE: dict[str, Pair] = {
    "address_changed": ("已修改地址（{fields}）", "address changed ({fields})"),
    "address_changed_reprint": ("已修改地址（{fields}）；面单需重打", "address changed ({fields}); label to reprint"),
    "intercept_requested": ("已申请拦截（{kind}），申请 #{request}", "intercept requested ({kind}), request #{request}"),
    "hold": ("暂扣：{reason}", "hold: {reason}"),
    "released": ("已解除暂扣", "released"),
    "self_pickup": ("已安排自取：邮件暂扣待取", "self-pickup arranged: item held for pickup"),
    "intercept_decided": ("拦截申请 #{request}：{state}", "intercept request #{request} {state}"),
}


def system_note(key: str, **params) -> str:
    """The text a system note is stored with (English, codes as they are)."""
    if "fields" in params and not isinstance(params["fields"], str):
        params["fields"] = ", ".join(params["fields"])
    return SYSTEM_NOTE[key][1].format(**params)


def _note_patterns():
    import re

    out = []
    for key, (_zh, en) in SYSTEM_NOTE.items():
        pattern = re.escape(en)
        for name in re.findall(r"\{(\w+)\}", en):
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+?)")
        out.append((key, re.compile(f"^{pattern}$", re.S)))
    # the longer template first where one is the other's prefix
    return sorted(out, key=lambda kp: -len(SYSTEM_NOTE[kp[0]][1]))


_NOTE_PATTERNS: list = []


def note_text(body: str | None, kind: str = "note", lang: str | None = None) -> str:
    """A ticket note in the reader's language: an agent's note as written;
    a state change (`open → resolved`) and the system's notes in words."""
    if not body:
        return ""
    if kind == "state" and " → " in body:
        old, new = body.split(" → ", 1)
        return f"{label('ticket_state', old, lang)} → {label('ticket_state', new, lang)}"
    if kind != "action":
        return body
    if not _NOTE_PATTERNS:
        _NOTE_PATTERNS.extend(_note_patterns())
    for key, pattern in _NOTE_PATTERNS:
        m = pattern.match(body)
        if m is None:
            continue
        params = m.groupdict()
        sep = ", " if reader_lang(lang) == "en" else "、"
        if "fields" in params:
            params["fields"] = sep.join(field_label(f.strip(), lang) for f in params["fields"].split(","))
        if "kind" in params:
            params["kind"] = label("intercept_kind", params["kind"], lang)
        if "state" in params:
            params["state"] = label("intercept_state", params["state"], lang)
        return _pick(SYSTEM_NOTE[key], lang).format(**params)
    return body


# ---- event details in words (the audit log) -------------------------------------------------

DETAIL_KEY: dict[str, Pair] = {
    "undoes": ("撤销的事件", "undoes event"),
    "undone_action": ("被撤销的操作", "undone action"),
    "failures": ("失败次数", "failures"),
    "changed": ("修改项", "changed"),
    "old": ("原值", "old values"),
    "fields": ("字段", "fields"),
    "personal_data": ("含个人信息", "personal data"),
    "rows": ("行数", "rows"),
    "count": ("数量", "count"),
    "search": ("查询", "search"),
    "source": ("来源", "source"),
    "prefix": ("前缀", "prefix"),
    "expires_at": ("到期时间", "expires"),
    "expected": ("应到数量", "expected"),
    "bags": ("总包数", "bags"),
    "items": ("件数", "items"),
    "hold_reason": ("暂扣原因", "hold reason"),
    "label_reprint": ("面单需重打", "label to reprint"),
    "filters": ("筛选条件", "filters"),
    "job": ("导入任务", "import job"),
    "terms": ("查询条件", "terms"),
    "context": ("扫描信息", "scan context"),
    "event": ("事件代码", "event code"),
    "location": ("地点", "location"),
    "statuses": ("状态", "statuses"),
    "routes": ("路向", "routes"),
    "types": ("证件类型", "types"),
}

EXPORT_KIND: dict[str, Pair] = {
    "status": ("状态导出", "status export"),
    "audit_csv": ("审计日志 CSV", "audit log CSV"),
    "dashboard_items_csv": ("看板清单 CSV", "dashboard list CSV"),
    "dashboard_items_xlsx": ("看板清单 XLSX", "dashboard list XLSX"),
    "daily_report_pdf": ("每日报告 PDF", "daily report PDF"),
    "daily_report_xlsx": ("每日报告 XLSX", "daily report XLSX"),
    "import_rejects": ("导入拒收行 CSV", "import rejects CSV"),
    "handover_discrepancies": ("交接差异 CSV", "handover discrepancies CSV"),
    "labels": ("面单", "labels"),
    "bag_manifest": ("总包清单", "bag manifest"),
    "bag_label": ("总包标签", "bag label"),
}
TABLES["export_kind"] = EXPORT_KIND
TABLES["detail_key"] = DETAIL_KEY

# keys whose value is a code of a kind, for the words of the value
_VALUE_KIND = {"action": "action", "undone_action": "action", "status": "status", "reason": "reason",
               "route": "route", "role": "role", "state": "ticket_state", "outcome": "outcome",
               "rule": "rule", "category": "category", "priority": "priority", "result": "result",
               "credential_type": "credential_type", "type": "credential_type", "province": "province",
               "statuses": "status", "routes": "route", "types": "credential_type", "actions": "action",
               "changed": "field", "fields": "field"}


def _detail_key(key: str, lang: str | None) -> str:
    pair = DETAIL_KEY.get(key) or COLUMN.get(key) or FIELD.get(key)
    return _pick(pair, lang) if pair else key


def _looks_like_time(text: str) -> bool:
    return len(text) >= 19 and text[4] == "-" and text[7] == "-" and text[10] in " T" and text[13] == ":"


def _detail_value(key: str, value, lang: str | None, parent: str | None = None) -> str:
    en = reader_lang(lang) == "en"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("yes" if value else "no") if en else ("是" if value else "否")
    if isinstance(value, dict):
        return "（" + _details_pairs(value, lang, parent=key) + "）" if not en else \
            "(" + _details_pairs(value, lang, parent=key) + ")"
    if isinstance(value, list):
        return (", " if en else "、").join(_detail_value(key, v, lang, parent) for v in value)
    text = str(value)
    if isinstance(value, str) and _looks_like_time(text):
        try:
            from .clock import format_datetime

            return format_datetime(text, seconds=True)
        except ValueError:
            return text
    if key == "kind":
        for kind in ("export_kind", "intercept_kind", "notification_kind"):
            if text in TABLES[kind]:
                return label(kind, text, lang)
        return text
    if key in ("from", "to") and parent is None:
        for kind in ("status", "role", "ticket_state"):
            if text in TABLES[kind]:
                return label(kind, text, lang)
        return text
    kind = _VALUE_KIND.get(key)
    if kind is not None:
        return label(kind, text, lang)
    if key in ("format", "fmt", "label_format"):
        return text.upper()
    return text


def _details_pairs(data: dict, lang: str | None, parent: str | None = None) -> str:
    sep = "; " if reader_lang(lang) == "en" else "；"
    colon = ": " if reader_lang(lang) == "en" else "："
    parts = []
    for key, value in data.items():
        if value in (None, "", [], {}):
            continue
        if parent is not None and key in ("from", "to"):
            name = _pick(("原值", "from") if key == "from" else ("新值", "to"), lang)
        elif parent in ("old", "fields", "new"):
            name = field_label(key, lang)
        else:
            name = _detail_key(str(key), lang)
        parts.append(f"{name}{colon}{_detail_value(str(key), value, lang, parent)}")
    return sep.join(parts)


def details_text(details, lang: str | None = None) -> str:
    """An event's details (JSON text as stored) in words: keys as labels,
    codes of known kinds as labels, times in the configured zone; text that
    is not a JSON object is shown as it is."""
    if not details:
        return ""
    import json

    try:
        data = json.loads(details) if isinstance(details, str) else details
    except ValueError:
        return str(details)
    if not isinstance(data, dict):
        return str(details)
    return _details_pairs(data, lang)


JINJA_GLOBALS.update(note_text=note_text, details_text=details_text)


# ---- import problems: row errors, warnings, file errors ---------------------------------------

def _gettext(message: str, lang: str | None) -> str:
    from .i18n import translate

    return translate(message, reader_lang(lang))


def problem_text(key: str | None, params: dict | None = None, lang: str | None = None,
                 default: str = "", html: bool = False) -> str:
    """An import problem (a key of domain.manifest's MESSAGES, WARNINGS or
    FILE_MESSAGES) in the reader's language, its parameters filled in;
    `default` when the key is none of them. Missing columns are named by
    the header a reader of that language writes (证件号; credential_no);
    with `html`, the headers to write and the file's own header row are
    marked as literal text (<code translate="no">), and the result is Markup."""
    from markupsafe import Markup, escape

    from .domain.manifest import FILE_MESSAGES, HEADERS, MESSAGES, WARNINGS

    template = MESSAGES.get(key or "") or WARNINGS.get(key or "") or FILE_MESSAGES.get(key or "")
    if template is None:
        return escape(default) if html else default
    params = dict(params or {})
    wrap = (lambda t: Markup('<code translate="no">%s</code>') % t) if html else (lambda t: t)
    if key == "missing_columns" and params.get("fields"):
        en = reader_lang(lang) == "en"
        names = [HEADERS[f][0 if en else 1] for f in params["fields"] if f in HEADERS]
        sep = ", " if en else "、"
        params["names"] = Markup(sep).join(wrap(n) for n in names) if html else sep.join(names)
    if html:
        params = {k: (v if k == "names" else wrap(v)) if k in ("names", "header") else escape(v)
                  for k, v in params.items()}
        return Markup(escape(_gettext(template, lang)).format(**params))
    return _gettext(template, lang).format(**params)


def conflict_text(fields, status: str, lang: str | None = None) -> str:
    """Why an import row that differs from its stored item was not applied."""
    sep = ", " if reader_lang(lang) == "en" else "、"
    return _gettext("differs from the stored item in %(fields)s; item is %(status)s, not updated", lang) % {
        "fields": sep.join(field_label(f, lang) for f in fields), "status": status_text(status, lang)}


def row_error_text(row: int, column: str, value: str, key: str | None, params: dict | None = None,
                   lang: str | None = None, message: str = "") -> str:
    """One line for a rejected row: `第 3 行，收件人电话“123”：…`."""
    text = problem_text(key, params, lang, default=message)
    if reader_lang(lang) == "en":
        return f"row {row}, {field_label(column, lang)} “{value}”: {text}"
    return f"第 {row} 行，{field_label(column, lang)}“{value}”：{text}"


REJECTS_COLUMNS = ["row", "column", "column_code", "value", "message"]


def rejects_header(lang: str | None = None) -> list[str]:
    """The header of a rejected-rows CSV in the reader's language."""
    return [header(c, lang) for c in REJECTS_COLUMNS]
