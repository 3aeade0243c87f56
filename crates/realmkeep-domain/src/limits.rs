//! Every limit of the game, named once. Units last in names.

/// Inventory slots per character (slots 0..INVENTORY_SLOTS).
pub const INVENTORY_SLOTS: i16 = 60;
/// Items one side may put into one trade.
pub const TRADE_ITEMS_PER_SIDE_MAX: usize = 12;
/// Item attachments one mail may carry.
pub const MAIL_ATTACHMENTS_MAX: usize = 8;
/// Mails a mailbox holds before new mail is refused.
pub const MAILBOX_MAILS_MAX: i64 = 100;
/// How long a mail stays before it is returned (or deleted if it was already returned).
pub const MAIL_EXPIRY_DAYS: i64 = 30;
/// Subject and body lengths of a mail.
pub const MAIL_SUBJECT_CHARS_MAX: usize = 64;
pub const MAIL_BODY_CHARS_MAX: usize = 2_000;
/// Active listings one seller may have.
pub const MARKET_LISTINGS_PER_SELLER_MAX: i64 = 50;
/// The auction house's fee on a sale, in basis points (1/100 of a percent).
pub const MARKET_FEE_BPS: i64 = 500;
/// Listing duration bounds.
pub const MARKET_LISTING_HOURS_MIN: i64 = 1;
pub const MARKET_LISTING_HOURS_MAX: i64 = 168;
/// Rows in one page of a marketplace search.
pub const MARKET_PAGE_ROWS_MAX: i64 = 100;
/// The most gold any one purse, price or attachment may hold.
pub const GOLD_MAX: i64 = 1_000_000_000_000;
/// Character, guild and account name lengths.
pub const CHARACTER_NAME_CHARS_MIN: usize = 3;
pub const CHARACTER_NAME_CHARS_MAX: usize = 16;
pub const GUILD_NAME_CHARS_MIN: usize = 3;
pub const GUILD_NAME_CHARS_MAX: usize = 24;
pub const ACCOUNT_NAME_CHARS_MIN: usize = 3;
pub const ACCOUNT_NAME_CHARS_MAX: usize = 32;
pub const PASSWORD_CHARS_MIN: usize = 10;
pub const PASSWORD_CHARS_MAX: usize = 128;
/// Characters one account may have.
pub const CHARACTERS_PER_ACCOUNT_MAX: i64 = 10;
/// Guild rules.
pub const GUILD_CREATE_COST_GOLD: i64 = 1_000;
pub const GUILD_MEMBERS_MAX: i64 = 200;
pub const GUILD_INVITE_HOURS: i64 = 72;
/// Friends (accepted or pending) one character may have.
pub const FRIENDS_MAX: i64 = 200;
/// The highest level.
pub const LEVEL_MAX: i32 = 60;
/// Rows one batch save may carry.
pub const BATCH_SAVE_ROWS_MAX: usize = 16_384;
/// Rows one append of game logs may carry.
pub const LOG_BATCH_ROWS_MAX: usize = 10_000;
/// Times a transaction is retried after a serialization failure or deadlock.
pub const TX_RETRIES_MAX: u32 = 8;
/// Stack sizes are bounded by the item definition; this is the ceiling of any definition.
pub const STACK_SIZE_MAX: i32 = 1_000;
/// The strongest status effect content may give a skill: health per second (poison and
/// regeneration), slow in percent (a slowed character still moves), armor bonus, and how long one
/// lasts (effects are never persisted: a long one would vanish on the next zone change anyway).
pub const SKILL_EFFECT_PER_SECOND_MAX: i32 = 1_000;
pub const SKILL_EFFECT_SLOW_PERCENT_MAX: i32 = 90;
pub const SKILL_EFFECT_ARMOR_MAX: i32 = 1_000;
pub const SKILL_EFFECT_DURATION_MS_MAX: u64 = 60_000;

// How the limits relate, checked when the crate compiles.
const _: () = {
    assert!(CHARACTER_NAME_CHARS_MIN <= CHARACTER_NAME_CHARS_MAX);
    assert!(GUILD_NAME_CHARS_MIN <= GUILD_NAME_CHARS_MAX);
    assert!(ACCOUNT_NAME_CHARS_MIN <= ACCOUNT_NAME_CHARS_MAX);
    assert!(PASSWORD_CHARS_MIN <= PASSWORD_CHARS_MAX);
    assert!(MARKET_LISTING_HOURS_MIN >= 1 && MARKET_LISTING_HOURS_MIN <= MARKET_LISTING_HOURS_MAX);
    // A whole side of a trade, or a mail's attachments, fit in an empty bag.
    assert!(TRADE_ITEMS_PER_SIDE_MAX as i64 <= INVENTORY_SLOTS as i64);
    assert!(MAIL_ATTACHMENTS_MAX as i64 <= INVENTORY_SLOTS as i64);
    // Two full purses add up without overflow (a trade computes both sides' sums in i64).
    assert!(GOLD_MAX <= i64::MAX / 4);
    // The fee is a share of the price.
    assert!(MARKET_FEE_BPS >= 0 && MARKET_FEE_BPS < 10_000);
    assert!(LEVEL_MAX >= 1);
    assert!(STACK_SIZE_MAX >= 1);
    assert!(TX_RETRIES_MAX >= 1);
};
