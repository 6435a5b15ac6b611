import { browser } from "@web/core/browser/browser";

/**
 * Gathers the requests made in one tick of the web client (the widgets of a
 * quote's lines, shown together) into one call of the server method
 * ``model.method``, which takes the list of requests and answers each, in
 * their order.
 *
 * @returns {function} called with a request, it returns a promise of its
 *   answer, rejected when the call fails
 */
export function batchedCall(orm, model, method) {
    let batch = null;

    async function send(current) {
        try {
            const answers = await orm.silent.call(model, method, [current.requests]);
            current.callbacks.forEach(({ resolve }, index) => resolve(answers[index]));
        } catch (error) {
            current.callbacks.forEach(({ reject }) => reject(error));
        }
    }

    return function call(request) {
        if (!batch) {
            batch = { requests: [], callbacks: [] };
            browser.setTimeout(() => {
                const current = batch;
                batch = null;
                send(current);
            });
        }
        const current = batch;
        return new Promise((resolve, reject) => {
            current.requests.push(request);
            current.callbacks.push({ resolve, reject });
        });
    };
}
