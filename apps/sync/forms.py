"""The sync settings form (docs/architecture.md#sync-semantics). Errors come from Django's own
validators and ours, all through gettext, so they read in the merchant's language."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.sync.models import SyncConfig
from apps.sync.pages import StoreChoice

MANAGED_FIELDS = (
    "manage_name", "manage_description", "manage_price", "manage_photo", "manage_stock",
    "manage_albums",
)
PRICE_FIELDS = ("markup_percent", "rounding", "min_price")
AUDITED_FIELDS = (
    "vk_category_id", "vk_category_name", *PRICE_FIELDS, "description_template",
    "out_of_stock", "removal", "albums_enabled", *MANAGED_FIELDS,
)


class SyncSettingsForm(forms.ModelForm):
    stores = forms.MultipleChoiceField(
        label=_("Stores whose goods are published"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    vk_category_id = forms.TypedChoiceField(
        label=_("VK category"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("VK asks for a category for every item; EvoSync uses this one for all."),
    )

    class Meta:
        model = SyncConfig
        fields = [
            "vk_category_id", *PRICE_FIELDS, "description_template", "out_of_stock", "removal",
            "albums_enabled", *MANAGED_FIELDS,
        ]
        labels = {
            "markup_percent": _("Markup, %"),
            "min_price": _("Minimum price, ₽"),
            "description_template": _("Description template"),
            "out_of_stock": _("When a product is out of stock"),
            "removal": _("When a product is deleted in Evotor or excluded"),
            "albums_enabled": _("Put goods into collections (подборки) named after their "
                                "Evotor groups"),
        }
        help_texts = {
            "markup_percent": _("Added to the Evotor price; a negative number gives a "
                                "discount (from −90 to 1000)."),
            "min_price": _("No item is published cheaper than this (0: no minimum)."),
            "description_template": _("Placeholders: {name} {price} {measure} {article} "
                                      "{description} {store}. A line whose placeholders are "
                                      "all empty is left out."),
        }
        widgets = {
            "rounding": forms.RadioSelect,
            "out_of_stock": forms.RadioSelect,
            "removal": forms.RadioSelect,
            "description_template": forms.Textarea(attrs={"rows": 7}),
            "markup_percent": forms.NumberInput(attrs={"step": "0.01"}),
            "min_price": forms.NumberInput(attrs={"step": "0.01"}),
        }

    def __init__(self, *args, stores: list[StoreChoice], categories: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.store_names = {store.id: store.name for store in stores}
        self.fields["stores"].choices = [(store.id, store.name) for store in stores]
        if not self.is_bound:
            self.initial["stores"] = [store.id for store in stores if store.included]
        self.fields["vk_category_id"].choices = categories
        self.category_names = {
            value: label
            for _section, items in categories[1:]
            for value, label in items
        }
        for name in MANAGED_FIELDS:
            self.fields[name].required = False

    def save(self, commit: bool = True) -> SyncConfig:
        config = super().save(commit=False)
        category = config.vk_category_id
        config.vk_category_name = str(self.category_names.get(category, "")) if category else ""
        if commit:
            config.save()
        return config
