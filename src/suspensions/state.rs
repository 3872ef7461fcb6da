//! What the suspension endpoints share beside the pool.

use crate::clock::Clock;
use crate::crypto::DataKey;
use crate::settings::WebhookSettings;

/// The suspension endpoints' state: the clock, the data key (webhook secrets), the webhook
/// settings and whether the public page is served (`benefits.public_page`).
pub struct SuspensionsState {
    pub clock: Clock,
    pub data_key: DataKey,
    pub webhooks: WebhookSettings,
    pub public_page: bool,
}
