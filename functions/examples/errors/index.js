// Seed 000 ("a lambda function that will generate different error messages"): fails with a
// message API Gateway's integration responses select on (selectionPattern), e.g.
// ".*Not Found.*" -> 404, "Bad Request:.*" -> 400; succeeds otherwise.
exports.handler = async (event) => {
    switch (event.kind) {
        case 'missing':
            throw new Error(`Not Found: no item ${event.id}`);
        case 'invalid':
            throw new Error(`Bad Request: ${event.reason || 'invalid input'}`);
        case 'crash':
            null.boom();
        default:
            return {ok: true, id: event.id};
    }
};
