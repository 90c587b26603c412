"""The sandbox's own world: a fake Evotor cloud, a fake VK and VK ID, and the knobs that steer them.

Everything lives in these tables (not in process memory) so that the web process, a qcluster and
a management command all see the same stores, items and tokens.
"""

from .control import (
    OutboundDelivery,
    RateCounter,
    SandboxConfig,
    SandboxFault,
    VkModerationRule,
)
from .evotor import (
    EvotorAccount,
    EvotorProduct,
    EvotorProductGroup,
    EvotorProductImage,
    EvotorStore,
)
from .vk import (
    VkAlbum,
    VkAlbumItem,
    VkGroup,
    VkGroupManager,
    VkMarketItem,
    VkPhoto,
    VkToken,
    VkUser,
)
from .vkid import VkIdAuthCode, VkIdRefreshToken

__all__ = [
    "EvotorAccount",
    "EvotorProduct",
    "EvotorProductGroup",
    "EvotorProductImage",
    "EvotorStore",
    "OutboundDelivery",
    "RateCounter",
    "SandboxConfig",
    "SandboxFault",
    "VkAlbum",
    "VkAlbumItem",
    "VkGroup",
    "VkGroupManager",
    "VkIdAuthCode",
    "VkIdRefreshToken",
    "VkMarketItem",
    "VkModerationRule",
    "VkPhoto",
    "VkToken",
    "VkUser",
]
