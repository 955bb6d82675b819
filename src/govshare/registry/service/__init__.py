"""Registry use cases. The only code that writes registry tables; each change records its event.

Every function that changes something takes the session and ``by``: the :class:`Principal`
acting (``core.auth.OPERATOR`` on the command line and in the demo loader). Scope checks happen
here, so the API, the portal and the CLI enforce the same rules.
"""

from govshare.registry.service.agencies import (  # noqa: F401
    create_agency,
    get_agency,
    list_agencies,
    region_path_of,
    update_agency,
)
from govshare.registry.service.authentication import (  # noqa: F401
    PASSWORD_WRONG,
    authenticate_request,
    authenticate_secret,
    change_own_password,
    check_sign_in_throttle,
    login,
    logout,
    principal_for_person,
    record_login_failure,
    record_password_check_failure,
    sign_in_wait,
)
from govshare.registry.service.credentials import (  # noqa: F401
    TOKEN_HINT_LENGTH,
    add_client,
    issue_token,
    list_clients,
    list_tokens,
    revoke_client,
    revoke_token,
    token_state,
)
from govshare.registry.service.people import (  # noqa: F401
    check_password_reset,
    create_person,
    get_person,
    grant_role,
    grants_of,
    list_people,
    reset_password,
    set_password,
    set_person_active,
)
from govshare.registry.service.regions import (  # noqa: F401
    agency_codes_in_subtrees,
    create_region,
    get_region,
    in_scope_of,
    in_subtrees,
    list_regions,
    region_codes_under,
    subtree_codes,
)
