// Every refusal the API can give, worded in Chinese and English from its stable `code` and the limits the
// problem+json carries as extension members (`max_fen`, `min_fen`, `subject`, `chars_max` …): amounts in ¥,
// never the server's English text in fen. An unknown code falls back to the server's `detail`.
// tests/api/test_error_messages.py checks that every code the server raises has both wordings here.

import { yuan } from "./money.js";

/** What a limit is about (`subject` of amount_too_large). */
const SUBJECTS = {
  zh: { packet: "单个红包", top_up: "单笔充值", transfer: "单笔转账", prize: "单个现金奖品", budget: "活动预算" },
  en: { packet: "A red packet", top_up: "One top-up", transfer: "One transfer", prize: "A cash prize", budget: "A budget" },
};

/** code → [Chinese, English]; {name} is filled from the problem (amounts `*_fen` as ¥). */
const MESSAGES = {
  // sign-in and accounts
  bad_credentials: ["用户名或密码错误", "Wrong username or password"],
  token_invalid: ["登录已过期，请重新登录", "Your session has ended: please log in again"],
  token_missing: ["请先登录", "Please log in first"],
  unauthorized: ["请先登录", "Please log in first"],
  username_taken: ["该用户名已被占用", "That username is taken"],
  invalid_username: ["用户名为 3–32 位字母、数字或下划线", "A username is 3–32 letters, digits or underscores"],
  invalid_display_name: ["昵称不符合要求", "That display name is not allowed"],
  weak_password: {
    length: ["密码需 {chars_min}–{chars_max} 个字符", "A password has {chars_min}–{chars_max} characters"],
    username: ["密码不能与用户名相同", "The password must not be the username"],
    common: ["这个密码太常见了，请换一个", "That password is too common: choose another"],
    "": ["密码不符合要求", "That password is not allowed"],
  },
  too_many_attempts: ["尝试次数过多，请稍后再试", "Too many attempts: try again later"],
  limiter_unavailable: ["服务繁忙，请稍后再试", "The service is busy: try again shortly"],
  // money
  invalid_amount: ["请输入正确的金额", "Enter a valid amount"],
  amount_too_large: ["{subject}最多 {max_fen}", "{subject} is at most {max_fen}"],
  share_too_small: ["每个红包至少 {min_fen}", "Every share needs at least {min_fen}"],
  insufficient_funds: ["零钱余额不足", "Your wallet balance is too low"],
  already_booked: ["这笔款项已处理", "This payment was already booked"],
  channel_declined: ["支付渠道拒绝了这笔交易", "The payment channel declined this payment"],
  channel_unavailable: ["支付渠道暂时无响应，请稍后用同一笔重试", "The payment channel did not answer: try again shortly"],
  // packets
  invalid_share_count: ["红包个数为 1–{shares_count_max} 个", "1 to {shares_count_max} shares"],
  invalid_split: ["请选择红包类型", "Choose how the packet is split"],
  invalid_greeting: ["祝福语最多 {chars_max} 个字", "A greeting has at most {chars_max} characters"],
  packet_not_found: ["红包不存在", "No such red packet"],
  packet_expired: ["该红包已超过24小时，已过期", "This red packet has expired"],
  packet_exhausted: ["手慢了，红包派完了", "Too late: every share has been taken"],
  already_claimed: ["你已经领过这个红包了", "You have already opened this red packet"],
  not_eligible: ["这个红包不是发给你的", "This red packet is not for you"],
  not_group_member: ["只有群成员才能抢这个红包", "Only members of the group may grab this red packet"],
  not_friends: ["你们还不是好友", "You are not friends"],
  // face-to-face, password, celebrity, share links
  wrong_code: ["口令或数字不对", "That code or phrase does not open it"],
  wrong_phrase: ["没有红包使用这个口令", "No live red packet has this phrase"],
  invalid_code: ["请输入正确的数字", "Enter the digits exactly"],
  invalid_phrase: ["口令不符合要求", "That phrase is not allowed"],
  phrase_taken: ["已有进行中的红包使用这个口令，换一个吧", "A live red packet already has this phrase: choose another"],
  too_far: ["你离发红包的人太远了", "You are too far from the sender"],
  location_required: ["这个红包需要你的位置", "This red packet needs your location"],
  invalid_location: ["位置不正确", "That location is not valid"],
  not_verified: ["该功能仅限认证账号使用", "Only verified accounts may do this"],
  not_follower: ["关注后才能领取", "Follow the account first"],
  invalid_platform: ["不支持这个分享平台", "That platform is not supported"],
  not_shareable: ["这个红包不能分享", "This red packet cannot be shared"],
  nothing_to_embed: ["这个红包没有口令或数字可附上", "This packet has no code or phrase to include"],
  not_password: ["这不是口令红包", "This is not a password packet"],
  secret_unreadable: ["口令已无法显示", "The secret can no longer be shown"],
  // friends, groups, conversations, followers
  user_not_found: ["找不到该用户", "No such user"],
  friend_not_found: ["找不到该好友", "No such friend"],
  friend_request_not_found: ["好友申请不存在", "No such friend request"],
  already_friends: ["你们已经是好友了", "You are already friends"],
  already_requested: ["已发送过好友申请", "You already sent a request"],
  cannot_befriend_self: ["不能添加自己为好友", "You cannot befriend yourself"],
  cannot_follow_self: ["不能关注自己", "You cannot follow yourself"],
  group_not_found: ["群聊不存在", "No such group"],
  group_full: ["群成员最多 {members_max} 人", "A group has at most {members_max} members"],
  already_member: ["已在群里", "Already a member"],
  member_not_found: ["不是群成员", "Not a member of the group"],
  not_group_owner: ["只有群主可以这样做", "Only the group owner may do this"],
  owner_cannot_leave: ["群主不能退出群聊", "The owner cannot leave the group"],
  invalid_group_name: ["群名称为 1–{chars_max} 个字", "A group name has 1–{chars_max} characters"],
  conversation_not_found: ["聊天不存在", "No such conversation"],
  invalid_conversation: ["无法开始这个聊天", "That conversation cannot be started"],
  invalid_message: ["消息内容不符合要求", "That message is not allowed"],
  not_admin: ["仅限管理员", "Administrators only"],
  invalid_verification: ["认证类型不正确", "Not a valid verification"],
  // relay, asks, transfers
  relay_not_found: ["接龙不存在", "No such relay"],
  not_your_turn: ["还没轮到你发红包", "It is not your turn"],
  below_relay_minimum: ["接龙红包每轮至少 {min_fen}", "A round of this chain is at least {min_fen}"],
  relay_deadline_passed: ["接龙已超时", "The relay deadline has passed"],
  relay_ended: ["接龙已结束", "The relay has ended"],
  relay_round_taken: ["这一轮已经有人发了", "This round was already sent"],
  invalid_deadline: ["期限不正确", "Not a valid deadline"],
  ask_not_found: ["讨红包请求不存在", "No such ask"],
  not_asked: ["这个请求不是问你的", "This ask is not to you"],
  asks_disabled: ["对方关闭了讨红包", "They turned asking off"],
  asked_too_often: ["今天讨红包的次数已用完", "You have asked too often today"],
  ask_answered: ["这个请求已处理", "This ask was already answered"],
  ask_expired: ["这个请求已过期", "This ask has expired"],
  cannot_ask_self: ["不能向自己讨红包", "You cannot ask yourself"],
  invalid_ask_target: ["请选择好友或群", "Ask a friend or a group"],
  group_ask_not_declinable: ["群里的请求无法拒绝，忽略即可", "A group ask cannot be declined, only ignored"],
  invalid_setting: ["设置不正确", "Not a valid setting"],
  transfer_not_found: ["转账不存在", "No such transfer"],
  not_transfer_recipient: ["这笔转账不是给你的", "This transfer is not to you"],
  transfer_settled: ["这笔转账已处理", "This transfer is already settled"],
  transfer_expired: ["这笔转账已过期", "This transfer has expired"],
  cannot_transfer_to_self: ["不能转账给自己", "You cannot pay yourself"],
  invalid_note: ["备注最多 {chars_max} 个字", "A note has at most {chars_max} characters"],
  // campaigns, coupons, merchants, shake
  campaign_not_found: ["活动不存在", "No such campaign"],
  campaign_not_started: ["活动还没开始", "The campaign has not started yet"],
  campaign_ended: ["活动已结束", "The campaign has ended"],
  campaign_exhausted: ["奖品已发完", "Every prize has been given out"],
  cap_reached: ["你已达到领取上限", "You have reached your limit for this campaign"],
  not_campaign_owner: ["只有活动方可以这样做", "Only the campaign's owner may do this"],
  invalid_channel: ["活动渠道不正确", "Not a valid channel"],
  invalid_window: ["活动时间不正确", "Not a valid time window"],
  invalid_prize: ["奖品设置不正确", "Not a valid prize"],
  invalid_branding: ["品牌信息不正确", "Not valid branding"],
  invalid_cap: ["上限不正确", "Not a valid cap"],
  invalid_stock: ["库存不正确", "Not a valid stock"],
  invalid_probability: ["中奖概率不正确", "Not a valid chance"],
  coupon_not_found: ["券不存在", "No such coupon"],
  coupon_redeemed: ["券已核销", "This coupon was already redeemed"],
  coupon_expired: ["券已过期", "This coupon has expired"],
  offer_not_found: ["优惠不存在", "No such offer"],
  offer_exhausted: ["券已领完或已过期", "None left, or the offer has expired"],
  coupon_taken: ["你已经领过这张券了", "You already hold a coupon of this offer"],
  merchant_not_found: ["商户不存在", "No such merchant"],
  shake_event_not_found: ["摇一摇活动不存在", "No such shake event"],
  round_not_active: ["现在不在摇一摇时段", "No round is on right now"],
  too_many_shakes: ["摇得太快了，歇一会儿", "Too many shakes: slow down"],
  pool_empty: ["奖池已空", "The prize pool is empty"],
  // the platform API for host apps (their developers meet these, the app's users seldom do)
  host_not_found: ["接入方不存在", "No such host app"],
  host_name_taken: ["接入方名称已被占用", "That host name is taken"],
  invalid_host: ["接入方信息不正确", "Not a valid host app"],
  host_key_invalid: ["接入密钥无效或已吊销", "Invalid or revoked host key"],
  host_key_not_found: ["接入密钥不存在", "No such host key"],
  host_key_revoked: ["接入密钥已吊销", "This host key is revoked already"],
  host_rate_limited: ["接入方请求过于频繁，请稍后再试", "The host app sends too many requests: try again shortly"],
  host_volume_exceeded: ["接入方今日额度已用完", "The host app's daily volume is used up"],
  invalid_scopes: ["权限范围不正确", "Not valid scopes"],
  scope_missing: ["密钥缺少所需权限", "This key lacks the scope needed"],
  invalid_on_behalf_of: ["代理用户不正确", "Not a valid X-On-Behalf-Of"],
  on_behalf_of_missing: ["请指明代理的用户", "Send X-On-Behalf-Of: the host's user"],
  on_behalf_of_needs_host_key: ["只有接入密钥可以代理用户", "X-On-Behalf-Of is for host keys"],
  invalid_webhook_url: ["回调地址不正确", "Not a valid webhook address"],
  // reports, paging, requests
  invalid_year: ["年份不正确", "Not a valid year"],
  invalid_runs: ["模拟次数不正确", "Not a valid number of runs"],
  invalid_limit: ["数量不正确", "Not a valid limit"],
  invalid_cursor: ["列表已变化，请刷新", "The list changed: reload"],
  invalid_request: ["填写的内容格式不对", "The request is malformed"],
  invalid_idempotency_key: ["请求编号不正确", "Not a valid Idempotency-Key"],
  idempotency_key_reused: ["请求编号已用于另一笔请求", "This Idempotency-Key was used for another request"],
  request_in_progress: ["正在处理，请稍候", "Still in progress: wait a moment"],
  account_not_found: ["账户不存在", "No such account"],
  not_found: ["找不到", "Not found"],
  method_not_allowed: ["不支持这个操作", "Not allowed"],
  too_large: ["内容太大了", "Too large"],
  body_timeout: ["网络太慢，请重试", "The request arrived too slowly: try again"],
  store_unavailable: ["服务暂时不可用，请稍后重试（重试不会重复扣款）", "The service is unavailable: try again (a retry never charges twice)"],
  internal_error: ["服务出错了，没有重复扣款", "Something went wrong on our side; nothing was charged twice"],
  network: ["网络错误，请重试（重试不会重复扣款）", "Network error: try again (a retry never charges twice)"],
};

/** Every code this file words (the coverage test reads the keys of MESSAGES). */
export const KNOWN_CODES = Object.keys(MESSAGES);

/** The refusal in `lang` ("zh" or "en"), or null when the code is not known here. */
export function errorMessage(problem, lang) {
  let entry = MESSAGES[problem?.code];
  if (!entry) return null;
  if (!Array.isArray(entry)) entry = entry[problem.reason] ?? entry[""];
  const text = entry[lang === "zh" ? 0 : 1];
  const values = { ...problem, subject: SUBJECTS[lang === "zh" ? "zh" : "en"][problem.subject] ?? "" };
  let missing = false;
  const filled = text.replace(/\{(\w+)\}/g, (_, name) => {
    const value = values[name];
    if (value === undefined || value === null || value === "") missing = true;
    return name.endsWith("_fen") && Number.isInteger(value) ? yuan(value) : String(value ?? "");
  });
  // A limit the server did not send (an older server): its own detail rather than a sentence with a hole.
  return missing && problem.detail ? problem.detail : filled;
}
