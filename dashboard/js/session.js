/**
 * The token is kept in sessionStorage: it lives as long as the tab, is not sent anywhere but in
 * the Authorization header of the API's requests, and is gone when the tab closes.
 */
const KEY = "vigil.api-token";

export function savedToken() {
  return sessionStorage.getItem(KEY);
}

export function saveToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}
