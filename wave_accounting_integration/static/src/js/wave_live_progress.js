/** @odoo-module **/
// Live progress of Wave sync runs: the server tells the screens over the bus
// (notification "wave_sync_progress", payload {ids}) when a run or one of its
// parts moved; a form or list showing one of them reads its data again, without
// reloading the page.
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { ProgressBarField, progressBarField } from "@web/views/fields/progress_bar/progress_bar_field";
import { onWillDestroy } from "@odoo/owl";

// One reload per view for a burst of notifications (every row of a list listens).
const pending = new WeakMap();

function reloadSoon(model) {
    if (pending.has(model)) {
        return;
    }
    pending.set(
        model,
        setTimeout(async () => {
            pending.delete(model);
            const root = model.root;
            // `dirty`, not `isDirty`: in Odoo 18 `isDirty()` is an async method, so
            // `root.isDirty` (a function) is always truthy and nothing would reload.
            if (root && root.dirty) {
                return;
            }
            await model.load();
        }, 300)
    );
}

export class WaveLiveProgressField extends ProgressBarField {
    setup() {
        super.setup();
        const busService = useService("bus_service");
        const onProgress = (payload) => {
            const ids = (payload && payload.ids) || [];
            if (ids.includes(this.props.record.resId)) {
                reloadSoon(this.props.record.model);
            }
        };
        busService.subscribe("wave_sync_progress", onProgress);
        busService.start();
        onWillDestroy(() => busService.unsubscribe("wave_sync_progress", onProgress));
    }
}

registry.category("fields").add("wave_live_progress", {
    ...progressBarField,
    component: WaveLiveProgressField,
});
